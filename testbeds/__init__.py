"""The two real Kubernetes clusters the e2e tier runs against, built on this machine.

- `testbeds.localcluster`: one node from binaries, as `hack/local-up-cluster.sh` does;
- `testbeds.kindcluster`: kind, one control plane and two workers, with its own dockerd in
  a network namespace of its own (it reuses the local cluster's binaries, images and Go build).

Nothing is pulled: binaries come from Go modules, packages from the machine's apt sources,
images are built here. Run from the repository root with the system python3, as root:
`python3 -m testbeds.localcluster up` and `python3 -m testbeds.kindcluster up`. Standard
library only, so neither needs the project's venv; neither imports kubectl_podnet.
"""

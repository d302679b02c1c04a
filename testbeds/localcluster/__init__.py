"""A one-node Kubernetes from binaries on this machine: `python3 -m testbeds.localcluster up|down|status`."""

#!/usr/bin/env python3
"""How long `kubectl podnet connect A B -o json` takes, warm, across two nodes and on one.

    python -m bench.cluster_connect [--rounds 10]   # on kind: through python3 -m testbeds.kindcluster run

Same cluster choice as the e2e tier (e2e/clusters.py). Three busybox servers: A and B on
two different nodes (the first two workers when there are any), C on A's node. Each round
runs `connect A B` (across) and `connect A C` (one node), alternating, warm (the agents and
their code in place: one exec per node, in parallel). Each run is the whole plugin process:
its start, the API reads, both execs, the judgement. The namespace is deleted at the end.
A benchmark, not a test.

On a fresh kind cluster install the agent from its own image first (no registry here):
`kubectl podnet agent install --agent-image localhost/podnet/python:3.11-bookworm`.
"""

from __future__ import annotations

import argparse
import secrets
import statistics

from e2e import clusters
from e2e import nodes as n
from e2e import workloads as w
from e2e.clients import Kubectl, Podnet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    target = clusters.resolve(clusters.Wanted(None, None, None, None, keep_cluster=True))
    kubectl = Kubectl(target.kubectl, target.kubeconfig)
    podnet = Podnet(target.kubeconfig, target.agent_image)
    names = n.node_names(kubectl)
    workers = [node for node in names if "control-plane" not in node] or names
    node_a, node_b = workers[0], workers[1 % len(workers)]
    namespace = f"bench-connect-{secrets.token_hex(3)}"
    kubectl.create_namespace(namespace, "podnet-e2e/run=bench")
    placed = {"a": node_a, "b": node_b, "c": node_a}
    times: dict[str, list[float]] = {"across": [], "one node": []}
    try:
        kubectl.apply(*[w.pod(pod, [w.server("web", target.workload_image, 8080)], tolerate_all=True,
                              node_selector={"kubernetes.io/hostname": node}) for pod, node in placed.items()],
                      namespace=namespace)
        kubectl.wait_ready(namespace, *placed)
        for pair in (("a", "b"), ("a", "c")):  # warm: agents installed, code sent
            podnet("connect", *pair, "-n", namespace, "-o", "json", "-q", timeout=300)
        for _ in range(args.rounds):
            for label, (a, b) in (("across", ("a", "b")), ("one node", ("a", "c"))):
                run = podnet("connect", a, b, "-n", namespace, "-o", "json", "-q", timeout=300)
                assert run.code == 0, run.describe()
                times[label].append(run.seconds)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=300s", check=False, timeout=360)
    print(f"\nnodes: A on {node_a}, B on {node_b}; {args.rounds} alternating rounds, warm")
    print("| connect | median | min | max |")
    print("|---|---:|---:|---:|")
    for label, seconds in times.items():
        print(f"| {label} | {statistics.median(seconds):.2f} s | {min(seconds):.2f} s | {max(seconds):.2f} s |")


if __name__ == "__main__":
    main()

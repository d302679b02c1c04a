#!/usr/bin/env python3
"""How long `kubectl podnet node map NODE -o json` takes, warm, as a node fills with pods.

    python -m bench.cluster_node_map [--sizes 1 10 100] [--rounds 5]

Same cluster choice as the e2e tier (e2e/clusters.py). For each size, pods (one busybox
sleeping) are added to one namespace until the node has that many of ours, then the map
is timed `--rounds` times (one warm agent exec each: the process start, the API list, the
exec, the agent's work for every pod of the node, the join). Other pods of the node are
mapped too and counted. The namespace is deleted at the end. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import secrets
import statistics

from e2e import clusters
from e2e import workloads as w
from e2e.clients import Kubectl, Podnet


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    target = clusters.resolve(clusters.Wanted(None, None, None, None, keep_cluster=True))
    kubectl = Kubectl(target.kubectl, target.kubeconfig)
    podnet = Podnet(target.kubeconfig, target.agent_image)
    namespace = f"bench-map-{secrets.token_hex(3)}"
    kubectl.create_namespace(namespace, "podnet-e2e/run=bench")
    made = 0
    rows = []
    try:
        for size in sorted(args.sizes):
            fresh = [f"p{i}" for i in range(made, size)]
            if fresh:
                kubectl.apply(*[w.pod(name, [w.idle("idle", target.workload_image)]) for name in fresh],
                              namespace=namespace)
                kubectl.wait_ready(namespace, *fresh, timeout=600)
                made = size
            node = kubectl.get("pod", "p0", "-n", namespace)["spec"]["nodeName"]
            podnet("node", "map", node, "-o", "json", "-q")  # warm the agent
            seconds, total = [], 0
            for _ in range(args.rounds):
                run = podnet("node", "map", node, "-o", "json", "-q", timeout=300)
                assert run.code in (0, 1, 3), run.describe()
                document = run.json()
                total = len(document["pods"]) + len(document["errors"])
                seconds.append(run.seconds)
            rows.append((size, total, statistics.median(seconds), min(seconds), max(seconds)))
            print(f"{size} of ours ({total} on the node): median {statistics.median(seconds):.2f} s", flush=True)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=600s", check=False, timeout=660)
    print("\n| our pods | pods on the node | node map -o json, warm, median | min | max |")
    print("|---:|---:|---:|---:|---:|")
    for size, total, median, low, high in rows:
        print(f"| {size} | {total} | {median:.2f} s | {low:.2f} s | {high:.2f} s |")


if __name__ == "__main__":
    main()

"""Benchmark (not a test): `node map` of a lab node with 1, 10 and 100 two-container pods.

All three labs are up at once (each under its own prefix) and the rounds alternate
between them, so machine noise falls on every size alike. One timed unit is what a map
costs on a node: one agent process in the node netns (start-up, imports, the node view,
every pod's facts and checks) answering a NodeMapRequest, and the client's join. The
median of the rounds is printed per size, with the agent's part and the node's process
count. Needs root; run it under the privileged lock.

    sudo .venv/bin/python bench/node_map.py [--sizes 1 10 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from kubectl_podnet.lab.session import map_lab
from kubectl_podnet.lab.spec import ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode


def pods(size: int) -> list[PodSpec]:
    return [PodSpec(f"p{i}", (ContainerSpec("web", listen=("0.0.0.0:8080",)), ContainerSpec("sidecar")))
            for i in range(size)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    nodes = {size: LabNode(f"pnm{size}", pods(size)) for size in args.sizes}
    times: dict[int, list[float]] = {size: [] for size in args.sizes}
    try:
        for size, node in nodes.items():
            started = time.perf_counter()
            node.build()
            print(f"built {size} pods in {time.perf_counter() - started:.1f} s", flush=True)
        for _ in range(args.rounds):
            for size, node in nodes.items():
                started = time.perf_counter()
                node_map = map_lab(node)
                times[size].append(time.perf_counter() - started)
                assert len(node_map.pods) == size and len(node_map.wires) == size, node_map.errors
                assert all(report.verdict == "pass" for report in node_map.pods)
        processes = sum(1 for pid in os.listdir("/proc") if pid.isdigit())
        print(f"\nprocesses on the machine: {processes}; rounds: {args.rounds}")
        print("| pods on the node | map (one agent run), median | min | max |")
        print("|---:|---:|---:|---:|")
        for size in args.sizes:
            print(f"| {size} | {statistics.median(times[size]):.2f} s | {min(times[size]):.2f} s "
                  f"| {max(times[size]):.2f} s |")
    finally:
        for node in nodes.values():
            node.teardown()


if __name__ == "__main__":
    main()

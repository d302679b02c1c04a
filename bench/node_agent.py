"""Benchmark (not a test): the node agent's work per pod on 1, 10 and 100 lab pods.

Builds a lab node with N two-container pods (a server and a sidecar, pause, veth on
cni0), then, in a worker process inside the node netns (as the DaemonSet runs), times
`inspect_pod` + checks for every pod. Prints per-pod median/p95 and how it grows with N,
plus the agent process's own start-up (interpreter + imports), the node view (uplink and
overlays, one link and route dump of the node, paid once per exec), and one exec's whole agent
side for all N pods as the agent pod runs it (the real bootstrap in the node netns, from a
temp cache): inline (a new Python imports the agent, as when no resident agent runs) and
answered by the resident agent. Needs root.

    sudo .venv/bin/python bench/node_agent.py [--sizes 1 10 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.payload import build_payload
from kubectl_podnet.lab.spec import ContainerSpec, PodSpec, inspect_request
from kubectl_podnet.lab.world import LabNode
from kubectl_podnet.model import InspectRequest
from kubectl_podnet.node.nsenter import enter_netns
from kubectl_podnet.node.procfs import NETNS_DIR
from kubectl_podnet.node.resident import recorded_server
from kubectl_podnet.serde import from_json, to_json


def worker(requests_json: str, rounds: int) -> None:
    from kubectl_podnet.report import build_report
    from kubectl_podnet.node.inspect import inspect_pod, read_node_view

    requests = [from_json(InspectRequest, r) for r in json.loads(requests_json)]
    times: list[float] = []
    view_times: list[float] = []
    for _ in range(rounds):
        # as the agent does for a batch: the node's uplink and overlays once, then each pod
        started = time.perf_counter()
        view = read_node_view()
        view_times.append((time.perf_counter() - started) * 1000)
        for request in requests:
            started = time.perf_counter()
            report = build_report(inspect_pod(request, node_view=view))
            times.append((time.perf_counter() - started) * 1000)
            assert report.verdict == "pass", [c.summary for c in report.checks if c.status == "fail"]
    print(json.dumps({"perPod": times, "nodeView": view_times}))


def in_node(node: LabNode, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, preexec_fn=lambda: enter_netns(f"{NETNS_DIR}/{node.plan.node_netns}"), capture_output=True, text=True, check=True, timeout=600)


def exec_side(node: LabNode, requests: list[object], rounds: int) -> tuple[float, float]:
    """Median ms of one exec's agent side for every pod at once: inline, then resident."""
    payload = build_payload()
    cache = tempfile.mkdtemp(prefix="podnet-bench-cache-")
    batch = json.dumps(requests, separators=(",", ":"))

    def boot(mode: str, stdin: bytes | None = None) -> float:
        argv = bootstrap.command(payload.digest, mode, batch, 600)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-I", "-S", *argv[1:]], input=stdin, capture_output=True, timeout=600,
            env={"PODNET_CACHE": cache, "PATH": "/usr/bin:/bin"},
            preexec_fn=lambda: enter_netns(f"{NETNS_DIR}/{node.plan.node_netns}"), check=False,
        )
        seconds = (time.perf_counter() - started) * 1000
        assert done.returncode == 0, done.stdout[-500:]
        return seconds

    def stop_server() -> None:
        pid = recorded_server(os.path.join(cache, payload.digest))
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.05)

    try:
        boot("install", bootstrap.frame(payload.data))
        inline, resident = [], []
        for _ in range(rounds):
            stop_server()
            inline.append(boot("run"))  # no server: the agent runs inline and starts one
            resident.append(boot("run"))
    finally:
        stop_server()
        shutil.rmtree(cache, ignore_errors=True)
    return statistics.median(inline), statistics.median(resident)


def measure(size: int, rounds: int) -> dict[str, float]:
    pods = [
        PodSpec(f"p{i}", (ContainerSpec("web", listen=("0.0.0.0:8080",)), ContainerSpec("sidecar")))
        for i in range(size)
    ]
    with LabNode(f"pnb{size}", pods) as node:
        requests = [to_json(inspect_request(node.plan, pod)) for pod in node.plan.pods]
        done = in_node(node, [sys.executable, __file__, "--worker", json.dumps(requests), "--rounds", str(rounds)])
        measured = json.loads(done.stdout)
        times, view_times = measured["perPod"], measured["nodeView"]
        procs = sum(1 for pid in os.listdir("/proc") if pid.isdigit())
        startup = []
        for _ in range(3):
            started = time.perf_counter()
            in_node(node, [sys.executable, "-c", "import kubectl_podnet.node.__main__, kubectl_podnet.checks, "
                           "kubectl_podnet.node.inspect"])
            startup.append((time.perf_counter() - started) * 1000)
        inline, resident = exec_side(node, requests, max(rounds, 3))
    times.sort()
    return {
        "pods": size,
        "processes_on_machine": procs,
        "per_pod_median_ms": round(statistics.median(times), 1),
        "per_pod_p95_ms": round(times[int(len(times) * 0.95) - 1] if len(times) > 1 else times[0], 1),
        "all_pods_ms": round(sum(times) / rounds, 1),
        "agent_startup_ms": round(statistics.median(startup), 1),
        "node_view_ms": round(statistics.median(view_times), 1),
        "exec_inline_ms": round(inline, 1),
        "exec_resident_ms": round(resident, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rounds)
        return
    rows = [measure(size, args.rounds) for size in args.sizes]
    print(f"{'pods':>5} {'procs':>6} {'per-pod median':>15} {'p95':>8} {'all pods':>10} {'agent start-up':>15}"
          f" {'node view/batch':>16} {'exec inline':>12} {'exec resident':>14}")
    for row in rows:
        print(f"{row['pods']:>5} {row['processes_on_machine']:>6} {row['per_pod_median_ms']:>12} ms "
              f"{row['per_pod_p95_ms']:>5} ms {row['all_pods_ms']:>7} ms {row['agent_startup_ms']:>12} ms"
              f" {row['node_view_ms']:>13} ms {row['exec_inline_ms']:>9} ms {row['exec_resident_ms']:>11} ms")
    base = rows[0]["per_pod_median_ms"]
    for row in rows[1:]:
        print(f"per-pod time at {row['pods']} pods is {row['per_pod_median_ms'] / base:.2f}x that at {rows[0]['pods']}")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

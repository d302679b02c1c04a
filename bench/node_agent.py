"""Benchmark (not a test): the node agent's work per pod on 1, 10 and 100 lab pods.

Builds a lab node with N two-container pods (a server and a sidecar, pause, veth on
cni0), then measures, in processes inside the node netns (as the DaemonSet runs):
- per pod: `inspect_pod` + checks for each pod alone (its own /proc scan), median and p95;
- batch: `run_batch` in process, the real batch path of `node/__main__.py` (one /proc scan,
  one node view, every pod), per exec;
- the agent process's own start-up (interpreter + imports) and the node view (uplink and
  overlays, one link and route dump of the node, paid once per exec);
- one exec's whole agent side for all N pods as the agent pod runs it (the real bootstrap in
  the node netns, from a temp cache): inline (a new Python imports the agent, as when no
  resident agent runs) and answered by the resident agent.

`--compare DIR...` also measures the package found under each DIR (e.g. an exported older
commit: `git archive COMMIT kubectl_podnet | tar -x -C DIR`; the row is named after DIR) on the
same lab, alternating with this checkout round by round so machine noise falls on all alike,
and checks that all give the same envelope for the batch (timings and pids of the agent itself
set aside). Needs root; run it under the privileged lock.

    sudo .venv/bin/python bench/node_agent.py [--sizes 1 10 100] [--rounds 3] [--compare DIR...]
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

from kubectl_podnet.lab.spec import ContainerSpec, PodSpec, inspect_request
from kubectl_podnet.lab.world import LabNode
from kubectl_podnet.node.nsenter import enter_netns
from kubectl_podnet.node.procfs import NETNS_DIR
from kubectl_podnet.serde import to_json

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker(requests_json: str, rounds: int) -> None:
    """In the node netns: per-pod inspects, the node view, and the real batch path."""
    from kubectl_podnet.model import InspectRequest
    from kubectl_podnet.node.engine import run_batch
    from kubectl_podnet.node.gather import inspect_pod, read_node_view
    from kubectl_podnet.checks.report import build_report
    from kubectl_podnet.serde import from_json

    raw = json.loads(requests_json)
    requests = [from_json(InspectRequest, r) for r in raw]
    times: list[float] = []
    view_times: list[float] = []
    batch_times: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        view = read_node_view()
        view_times.append((time.perf_counter() - started) * 1000)
        for request in requests:
            started = time.perf_counter()
            report = build_report(inspect_pod(request, node_view=view))
            times.append((time.perf_counter() - started) * 1000)
            assert report.verdict == "pass", [c.summary for c in report.checks if c.status == "fail"]
        started = time.perf_counter()
        code, _ = run_batch(raw)
        batch_times.append((time.perf_counter() - started) * 1000)
        assert code == 0, code
    print(json.dumps({"perPod": times, "nodeView": view_times, "batch": batch_times}))


def exec_side(netns: str, cache: str, requests_json: str, rounds: int) -> None:
    """One exec's agent side for every pod at once, `rounds` times: inline, then resident."""
    from kubectl_podnet.cluster import bootstrap
    from kubectl_podnet.cluster.agent_zip import build_payload

    payload = build_payload()
    requests = json.loads(requests_json)
    batch = json.dumps(requests, separators=(",", ":"))
    last: list[bytes] = []

    def boot(mode: str, stdin: bytes | None = None) -> float:
        argv = bootstrap.command(payload.digest, mode, batch, 600)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-I", "-S", *argv[1:]], input=stdin, capture_output=True, timeout=600,
            env={"PODNET_CACHE": cache, "PATH": "/usr/bin:/bin"},
            preexec_fn=lambda: enter_netns(f"{NETNS_DIR}/{netns}"), check=False,
        )
        seconds = (time.perf_counter() - started) * 1000
        assert done.returncode == 0, done.stdout[-500:]
        last[:] = [done.stdout]
        return seconds

    if not os.path.isdir(os.path.join(cache, payload.digest)):
        boot("install", bootstrap.frame(payload.data))
    inline, resident = [], []
    for _ in range(rounds):
        stop_server(cache, payload.digest)
        inline.append(boot("run"))  # no server: the agent runs inline and starts one
        resident.append(boot("run"))
        resident.append(boot("run"))
    print(json.dumps({"inline": inline, "resident": resident, "digest": payload.digest,
                      "envelope": json.loads(last[0])}))


def stop_server(cache: str, digest: str) -> None:
    from kubectl_podnet.node.resident import recorded_server

    pid = recorded_server(os.path.join(cache, digest))
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def in_node(netns: str, argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, preexec_fn=lambda: enter_netns(f"{NETNS_DIR}/{netns}"), capture_output=True,
                          text=True, check=True, timeout=600, env=env)


def comparable(value: object) -> object:
    """The envelope without what differs run to run: probe times, the serving agent's pid."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in ("millis", "servedBy")}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def measure(size: int, rounds: int, variants: dict[str, str]) -> list[dict[str, object]]:
    pods = [
        PodSpec(f"p{i}", (ContainerSpec("web", listen=("0.0.0.0:8080",)), ContainerSpec("sidecar")))
        for i in range(size)
    ]
    got: dict[str, dict[str, list[float]]] = {
        name: {"perPod": [], "nodeView": [], "batch": [], "inline": [], "resident": [], "startup": []}
        for name in variants}
    envelopes: dict[str, object] = {}
    caches = {name: tempfile.mkdtemp(prefix="podnet-bench-cache-") for name in variants}
    digests: dict[str, str] = {}
    with LabNode(f"pnb{size}", pods) as node:
        netns = node.plan.node_netns
        requests = json.dumps([to_json(inspect_request(node.plan, pod)) for pod in node.plan.pods])
        try:
            for _ in range(rounds):
                for name, root in variants.items():  # alternating: noise falls on every variant alike
                    env = {**os.environ, "PYTHONPATH": root}
                    done = in_node(netns, [sys.executable, __file__, "--worker", requests, "--rounds", "1"], env)
                    for key, values in json.loads(done.stdout).items():
                        got[name][key] += values
                    started = time.perf_counter()
                    in_node(netns, [sys.executable, "-c", "import kubectl_podnet.node.engine, kubectl_podnet.checks, "
                                    "kubectl_podnet.node.gather"], env)
                    got[name]["startup"].append((time.perf_counter() - started) * 1000)
                    done = subprocess.run([sys.executable, __file__, "--exec-side", requests, "--netns", netns,
                                           "--cache", caches[name], "--rounds", "1"],
                                          capture_output=True, text=True, check=True, timeout=600, env=env)
                    answer = json.loads(done.stdout)
                    got[name]["inline"] += answer["inline"]
                    got[name]["resident"] += answer["resident"]
                    digests[name] = answer["digest"]
                    envelopes[name] = comparable(answer["envelope"])
        finally:
            for name, cache in caches.items():
                if name in digests:
                    stop_server(cache, digests[name])
                shutil.rmtree(cache, ignore_errors=True)
        procs = sum(1 for pid in os.listdir("/proc") if pid.isdigit())
    first = next(iter(envelopes.values()))
    for name, envelope in envelopes.items():
        assert envelope == first, f"{name} answers the batch differently"
    rows = []
    for name, values in got.items():
        times = sorted(values["perPod"])
        rows.append({
            "variant": name,
            "pods": size,
            "processes_on_machine": procs,
            "per_pod_median_ms": round(statistics.median(times), 1),
            "per_pod_p95_ms": round(times[int(len(times) * 0.95) - 1] if len(times) > 1 else times[0], 1),
            "batch_ms": round(statistics.median(values["batch"]), 1),
            "agent_startup_ms": round(statistics.median(values["startup"]), 1),
            "node_view_ms": round(statistics.median(values["nodeView"]), 1),
            "exec_inline_ms": round(statistics.median(values["inline"]), 1),
            "exec_resident_ms": round(statistics.median(values["resident"]), 1),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--compare", nargs="*", default=[],
                        help="directories holding other kubectl_podnet packages to measure alongside")
    parser.add_argument("--worker")
    parser.add_argument("--exec-side")
    parser.add_argument("--netns")
    parser.add_argument("--cache")
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.rounds)
        return
    if args.exec_side:
        exec_side(args.netns, args.cache, args.exec_side, args.rounds)
        return
    variants = {os.path.basename(os.path.abspath(d)): os.path.abspath(d) for d in args.compare}
    variants["this"] = HERE
    rows = [row for size in args.sizes for row in measure(size, args.rounds, variants)]
    print(f"{'variant':>12} {'pods':>5} {'procs':>6} {'per-pod median':>15} {'p95':>8} {'batch':>10}"
          f" {'agent start-up':>15} {'node view':>10} {'exec inline':>12} {'exec resident':>14}")
    for row in rows:
        print(f"{row['variant']:>12} {row['pods']:>5} {row['processes_on_machine']:>6} {row['per_pod_median_ms']:>12} ms "
              f"{row['per_pod_p95_ms']:>5} ms {row['batch_ms']:>7} ms {row['agent_startup_ms']:>12} ms"
              f" {row['node_view_ms']:>7} ms {row['exec_inline_ms']:>9} ms {row['exec_resident_ms']:>11} ms")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

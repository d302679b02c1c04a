#!/usr/bin/env python3
"""How fast `kubectl podnet inspect` is, next to the manual route a learner takes for the same facts.

    python e2e/bench_speed.py [--rounds 7] [--cold-rounds 3] [--pods 20] [--json out.json]

Same cluster choice as the e2e tier (e2e/clusters.py: --kubeconfig / KUBECONFIG, or
E2E_CLUSTER=local|kind). In one run, on one pod (a server and a client sidecar):
- cold: the agent uninstalled, then `kubectl podnet inspect POD -o json` (images present);
- warm, side by side with the manual route, round after round (the order alternates):
  `kubectl podnet inspect POD -o json` versus the kubectl/nsenter commands printed by
  --print-manual (the pod, the agent pod on its node, the pause pid, the pod's addresses
  and links, the host peer, the listeners), each a separate process as a learner types them;
- growth: warm inspect with --pods more pods on the node, and all of them inspected in turn.
Medians are reported against the targets: warm < 1 s and <= half the manual route, cold < 15 s.
This is a benchmark, not a test: it exits 0 when it measured, whatever the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from e2e import clusters  # noqa: E402
from e2e import workloads as w  # noqa: E402
from e2e.clients import Kubectl, Podnet, Run, plugin_argv  # noqa: E402
from e2e.leftovers import AGENT_NAMESPACE, AGENT_SELECTOR  # noqa: E402

WARM_TARGET = 1.0
COLD_TARGET = 15.0

# The learner's commands, with the values each step found filled into the next one.
# {host} is a host process (the kubelet): its mount namespace has the node's `ip` and `ss`,
# which a stock Python agent image lacks.
MANUAL = [
    ("the pod: node, uid, container ids", ["get", "pod", "{pod}", "-n", "{ns}", "-o", "json"]),
    ("the agent pod on that node", ["get", "pods", "-n", AGENT_NAMESPACE, "-l", AGENT_SELECTOR,
                                    "--field-selector", "spec.nodeName={node}",
                                    "-o", "jsonpath={{.items[0].metadata.name}}"]),
    ("the pause pid (and the kubelet's, for the node's tools)",
     ["exec", "-n", AGENT_NAMESPACE, "{agent}", "--", "sh", "-c",
      "for f in $(grep -lE '{uid}|{uid_}' /proc/[0-9]*/cgroup); do p=${{f#/proc/}}; p=${{p%/cgroup}}; "
      "[ \"$(cat /proc/$p/comm 2>/dev/null)\" = pause ] && echo pause $p; done; "
      "for c in /proc/[0-9]*/comm; do [ \"$(cat $c 2>/dev/null)\" = kubelet ] && "
      "{{ p=${{c#/proc/}}; echo host ${{p%/comm}}; break; }}; done"]),
    ("the pod's addresses", ["exec", "-n", AGENT_NAMESPACE, "{agent}", "--", "nsenter",
                             "--mount=/proc/{host}/ns/mnt", "--net=/proc/{pause}/ns/net", "ip", "-j", "addr"]),
    ("the pod's links (eth0's peer ifindex)", ["exec", "-n", AGENT_NAMESPACE, "{agent}", "--", "nsenter",
                                              "--mount=/proc/{host}/ns/mnt", "--net=/proc/{pause}/ns/net",
                                              "ip", "-j", "-d", "link"]),
    ("the host peer and its bridge", ["exec", "-n", AGENT_NAMESPACE, "{agent}", "--", "nsenter",
                                      "--mount=/proc/{host}/ns/mnt", "ip", "-j", "-d", "link", "show"]),
    ("the listeners", ["exec", "-n", AGENT_NAMESPACE, "{agent}", "--", "nsenter",
                       "--mount=/proc/{host}/ns/mnt", "--net=/proc/{pause}/ns/net", "ss", "-ltn"]),
]


def manual_route(kubectl: Kubectl, pod: str, namespace: str) -> tuple[float, dict[str, Any]]:
    """Run the learner's commands; the facts they gave (checked, so the route really works)."""
    facts: dict[str, Any] = {"pod": pod, "ns": namespace}
    started = time.perf_counter()
    for title, template in MANUAL:
        run = kubectl(*[part.format(**facts) for part in template])
        if title.startswith("the pod:"):
            obj = run.json()
            facts.update(node=obj["spec"]["nodeName"], uid=obj["metadata"]["uid"],
                         uid_=obj["metadata"]["uid"].replace("-", "_"))
        elif title.startswith("the agent pod"):
            facts["agent"] = run.stdout.strip()
        elif title.startswith("the pause pid"):
            found = dict(line.split() for line in run.stdout.splitlines() if line.strip())
            facts.update(pause=found["pause"], host=found["host"])
        elif title.startswith("the pod's addresses"):
            facts["addresses"] = [a["local"] for i in json.loads(run.stdout) for a in i.get("addr_info", [])]
        elif title.startswith("the pod's links"):
            eth0 = next(i for i in json.loads(run.stdout) if i["ifname"] == "eth0")
            facts["peer_ifindex"] = eth0.get("link_index")
        elif title.startswith("the host peer"):
            peer = next(i for i in json.loads(run.stdout) if i["ifindex"] == facts["peer_ifindex"])
            facts["peer"] = (peer["ifname"], peer.get("master"))
        else:
            facts["listeners"] = [line.split()[3] for line in run.stdout.splitlines()[1:] if line.strip()]
    return time.perf_counter() - started, facts


class _Named(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def print_manual() -> None:
    print("The manual route (each line one command; {x} is what an earlier line found):")
    for title, template in MANUAL:
        print(f"  # {title}\n  kubectl {shlex.join(part.format_map(_Named()) for part in template)}")


class Bench:
    def __init__(self, target: clusters.Target, namespace: str) -> None:
        self.target = target
        self.namespace = namespace
        self.kubectl = Kubectl(target.kubectl, target.kubeconfig)
        self.podnet = Podnet(target.kubeconfig, target.agent_image)
        # `kubectl podnet ...` as a user types it: kubectl finds kubectl-podnet on PATH
        self.env = dict(os.environ)
        self.env["PATH"] = str(Path(plugin_argv()[0]).parent) + os.pathsep + self.env.get("PATH", "")

    def kubectl_podnet(self, *pods: str, selector: str | None = None) -> Run:
        """`kubectl podnet inspect POD...` (or `-l SELECTOR`: one agent exec per node)."""
        import subprocess

        targets = list(pods) + (["-l", selector] if selector else [])
        argv = [self.target.kubectl, "podnet", "inspect", *targets, "-n", self.namespace, "-o", "json",
                "--kubeconfig", self.target.kubeconfig]
        if self.target.agent_image:
            argv += ["--agent-image", self.target.agent_image]
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=300)
        run = Run(argv, done.returncode, done.stdout, done.stderr, time.perf_counter() - started)
        if run.code not in (0, 1):
            raise SystemExit(f"bench: inspect failed\n{run.describe()}")
        return run

    def make_pods(self, names: list[str], image: str, sidecar: bool, labels: dict[str, str] | None = None) -> None:
        pods = []
        for name in names:
            containers = [w.server("server", image, 8080)]
            if sidecar:
                containers.append(w.idle("client", image, ready_when=w.reaches("127.0.0.1", 8080)))
            pod = w.pod(name, containers)
            pod["metadata"]["labels"].update(labels or {})
            pods.append(pod)
        self.kubectl.apply(*pods, namespace=self.namespace)
        self.kubectl.wait_ready(self.namespace, *names, timeout=300)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig")
    parser.add_argument("--kubectl")
    parser.add_argument("--agent-image")
    parser.add_argument("--workload-image")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cold-rounds", type=int, default=3)
    parser.add_argument("--pods", type=int, default=20, help="extra pods for the growth part (0: skip)")
    parser.add_argument("--keep-cluster", action="store_true")
    parser.add_argument("--json", help="write the numbers here too")
    parser.add_argument("--print-manual", action="store_true", help="print the manual commands and exit")
    args = parser.parse_args(argv)
    if args.print_manual:
        print_manual()
        return 0

    target = clusters.resolve(clusters.Wanted(kubeconfig=args.kubeconfig, kubectl=args.kubectl,
                                              agent_image=args.agent_image, workload_image=args.workload_image,
                                              keep_cluster=args.keep_cluster))
    print(target.describe(), flush=True)
    namespace = f"podnet-bench-{os.getpid()}"
    bench = Bench(target, namespace)
    kubectl = bench.kubectl
    had_agent = bool(kubectl.names("daemonset/podnet-agent", "-n", AGENT_NAMESPACE))
    results: dict[str, Any] = {"target": target.source, "rounds": args.rounds}
    bench.kubectl.create_namespace(namespace)
    try:
        bench.make_pods(["web"], target.workload_image, sidecar=True)

        cold: list[float] = []
        for _ in range(args.cold_rounds):
            bench.podnet("agent", "uninstall", "--timeout", "180")
            run = bench.kubectl_podnet("web")
            if "sending the agent code" not in run.stderr:
                raise SystemExit(f"bench: the cold run did not send the code\n{run.describe()}")
            cold.append(run.seconds)
            print(f"cold inspect: {run.seconds:.2f}s", flush=True)

        bench.kubectl_podnet("web")  # settle: the first warm run after install
        warm, direct, manual = [], [], []
        facts: dict[str, Any] = {}
        for round_ in range(args.rounds):
            steps = ["warm", "manual"] if round_ % 2 == 0 else ["manual", "warm"]
            for step in steps:
                if step == "warm":
                    run = bench.kubectl_podnet("web")
                    if "sending the agent code" in run.stderr:
                        raise SystemExit("bench: a warm run re-sent the code")
                    warm.append(run.seconds)
                else:
                    seconds, facts = manual_route(kubectl, "web", namespace)
                    manual.append(seconds)
            plain = bench.podnet.inspect("web", namespace)
            direct.append(plain.seconds)
            print(f"round {round_ + 1}: kubectl podnet {warm[-1]:.2f}s, kubectl-podnet {direct[-1]:.2f}s, "
                  f"manual {manual[-1]:.2f}s", flush=True)
        print(f"manual route found: pause pid {facts.get('pause')}, addresses {facts.get('addresses')}, "
              f"host peer {facts.get('peer')}, listeners {facts.get('listeners')}")

        results.update(cold_s=cold, warm_s=warm, direct_s=direct, manual_s=manual,
                       cold_median=median(cold), warm_median=median(warm), direct_median=median(direct),
                       manual_median=median(manual))

        if args.pods:
            names = [f"load-{i:02d}" for i in range(1, args.pods + 1)]
            started = time.perf_counter()
            bench.make_pods(names, target.workload_image, sidecar=False, labels={"bench": "load"})
            print(f"{args.pods} more pods Ready in {time.perf_counter() - started:.1f}s", flush=True)
            busy = [bench.kubectl_podnet("web").seconds for _ in range(args.rounds)]
            each = []
            started = time.perf_counter()
            for name in names:
                each.append(bench.kubectl_podnet(name).seconds)
            all_total = time.perf_counter() - started
            batch = [bench.kubectl_podnet(selector="bench=load").seconds for _ in range(args.rounds)]
            results.update(pods=args.pods, warm_busy_median=median(busy), each_median=median(each),
                           all_total=all_total, batch_median=median(batch))
    finally:
        kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=180s", check=False, timeout=200)
        if not had_agent:
            bench.podnet("agent", "uninstall", "--timeout", "180")

    report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def report(r: dict[str, Any]) -> None:
    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    print(f"\nmedians over {r['rounds']} warm rounds and {len(r['cold_s'])} cold ones ({r['target']}):")
    print(f"  warm  kubectl podnet inspect -o json   {r['warm_median']:6.2f}s   "
          f"{verdict(r['warm_median'] < WARM_TARGET)} < {WARM_TARGET:.0f} s")
    print(f"        (kubectl-podnet called directly   {r['direct_median']:6.2f}s)")
    print(f"  manual route ({len(MANUAL)} commands)            {r['manual_median']:6.2f}s   "
          f"warm/manual = {r['warm_median'] / r['manual_median']:.2f}, "
          f"{verdict(r['warm_median'] <= r['manual_median'] / 2)} <= 0.5")
    print(f"  cold  (agent not installed)             {r['cold_median']:6.2f}s   "
          f"{verdict(r['cold_median'] < COLD_TARGET)} < {COLD_TARGET:.0f} s")
    if "pods" in r:
        print(f"  with {r['pods']} more pods on the node: warm inspect {r['warm_busy_median']:.2f}s "
              f"(was {r['warm_median']:.2f}s); each of them {r['each_median']:.2f}s median, "
              f"all {r['pods']} in turn {r['all_total']:.1f}s")
        print(f"  all {r['pods']} in one batch (inspect -l, one agent exec): {r['batch_median']:.2f}s median")


if __name__ == "__main__":
    sys.exit(main())

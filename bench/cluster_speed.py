#!/usr/bin/env python3
"""How fast `kubectl podnet` is, next to one bare exec and the manual route a learner takes.

    python -m bench.cluster_speed [--rounds 10] [--cold-rounds 10] [--batch-pods 100] [--json out.json]

Same cluster choice as the e2e tier (e2e/clusters.py: --kubeconfig / KUBECONFIG, or
E2E_CLUSTER=local|kind). In one run, on one pod (a server and a client sidecar), each
measured as a separate process as a user types it, min/median/max over the rounds:
- warm, round after round with the order rotating: `kubectl podnet inspect POD -o json`,
  `kubectl exec <agent pod> -c agent -- true` (the floor: one exec), the manual route
  (the kubectl/nsenter commands printed by --print-manual: the pod, the agent pod on its
  node, the pause pid, the pod's addresses and links, the host peer, the listeners),
  `kubectl podnet version` and `kubectl podnet inspect -h`;
- batch: --batch-pods two-container pods on the node (no readiness probes: 200 exec probes a
  second would load the machine more than anything measured), all in one `inspect -l`;
- cold: the agent uninstalled, then `kubectl podnet inspect POD -o json` (images present).
The ratios are printed against the speed targets below. This is a benchmark, not a test: it
exits 0 when it measured, whatever the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from e2e import clusters
from e2e import workloads as w
from e2e.clients import Kubectl, Podnet, Run, plugin_argv
from e2e.leftovers import AGENT_NAMESPACE, AGENT_SELECTOR

# the speed targets: warm inspect close to a bare exec, far below the manual route
WARM_PER_EXEC = 2.5  # warm inspect / one bare exec
WARM_PER_MANUAL = 0.4  # warm inspect / the manual route
INSTANT = 0.08  # version, inspect -h (seconds)
BATCH_TARGET = 2.0  # the batch, in one inspect -l (seconds)
COLD_TARGET = 3.0  # seconds to the first report, agent not installed, images present

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
        self.cpu = 0.0

    def timed(self, argv: list[str], codes: tuple[int, ...] = (0,)) -> Run:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env, timeout=600)
        run = Run(argv, done.returncode, done.stdout, done.stderr, time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        # the client's own CPU (kubectl execs the plugin in place): what a busy machine cannot inflate
        self.cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        if run.code not in codes:
            raise SystemExit(f"bench: a command failed\n{run.describe()}")
        return run

    def kubectl_podnet(self, *pods: str, selector: str | None = None) -> Run:
        """`kubectl podnet inspect POD...` (or `-l SELECTOR`: one agent exec per node)."""
        targets = list(pods) + (["-l", selector] if selector else [])
        argv = [self.target.kubectl, "podnet", "inspect", *targets, "-n", self.namespace, "-o", "json",
                "--kubeconfig", self.target.kubeconfig]
        if self.target.agent_image:
            argv += ["--agent-image", self.target.agent_image]
        return self.timed(argv, codes=(0, 1))

    def plain(self, *args: str) -> Run:
        """`kubectl podnet ARGS` that needs no cluster (version, help)."""
        return self.timed([self.target.kubectl, "podnet", *args])

    def exec_true(self, agent: str) -> Run:
        return self.timed(self.kubectl.argv("exec", "-n", AGENT_NAMESPACE, agent, "-c", "agent", "--", "true"))

    def make_pods(self, names: list[str], image: str, sidecar: bool, labels: dict[str, str] | None = None,
                  timeout: float = 300, probes: bool = True) -> None:
        pods = []
        for name in names:
            containers = [w.server("server", image, 8080)]
            if sidecar:
                containers.append(w.idle("client", image, ready_when=w.reaches("127.0.0.1", 8080)))
            if not probes:  # 100 pods' exec probes every second would be the benchmark's main load
                for container in containers:
                    container.pop("readinessProbe", None)
            pod = w.pod(name, containers)
            pod["metadata"]["labels"].update(labels or {})
            pods.append(pod)
        self.kubectl.apply(*pods, namespace=self.namespace)
        self.kubectl.wait_ready(self.namespace, *names, timeout=timeout)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> str:
    if not values:
        return "not measured"
    return f"min {min(values):.3f}  median {median(values):.3f}  max {max(values):.3f} s"


WARM_STEPS = ("inspect", "exec", "manual", "version", "help")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig")
    parser.add_argument("--kubectl")
    parser.add_argument("--agent-image")
    parser.add_argument("--workload-image")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--cold-rounds", type=int, default=10)
    parser.add_argument("--batch-pods", type=int, default=100, help="two-container pods for the batch (0: skip)")
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
    times: dict[str, list[float]] = {step: [] for step in (*WARM_STEPS, "batch", "cold")}
    cpu: dict[str, list[float]] = {step: [] for step in ("inspect", "exec", "version", "help", "batch")}
    results["seconds"] = times
    results["client_cpu_seconds"] = cpu
    bench.kubectl.create_namespace(namespace)
    try:
        bench.make_pods(["web"], target.workload_image, sidecar=True)
        bench.kubectl_podnet("web")  # installs the agent if needed, sends the code, starts the resident agent
        bench.kubectl_podnet("web")
        bench.plain("inspect", "-h")  # the help cache, as after a user's first -h
        agent = kubectl("get", "pods", "-n", AGENT_NAMESPACE, "-l", AGENT_SELECTOR,
                        "-o", "jsonpath={.items[0].metadata.name}").stdout.strip()
        facts: dict[str, Any] = {}
        for round_ in range(args.rounds):
            shift = round_ % len(WARM_STEPS)
            for step in WARM_STEPS[shift:] + WARM_STEPS[:shift]:
                if step == "inspect":
                    run = bench.kubectl_podnet("web")
                    if "sending the agent code" in run.stderr:
                        raise SystemExit("bench: a warm run re-sent the code")
                    seconds = run.seconds
                elif step == "exec":
                    seconds = bench.exec_true(agent).seconds
                elif step == "manual":
                    seconds, facts = manual_route(kubectl, "web", namespace)
                elif step == "version":
                    seconds = bench.plain("version").seconds
                else:
                    seconds = bench.plain("inspect", "-h").seconds
                times[step].append(seconds)
                if step in cpu:
                    cpu[step].append(bench.cpu)
            print(f"round {round_ + 1}: " + ", ".join(f"{s} {times[s][-1]:.3f}s" for s in WARM_STEPS), flush=True)
        print(f"manual route found: pause pid {facts.get('pause')}, addresses {facts.get('addresses')}, "
              f"host peer {facts.get('peer')}, listeners {facts.get('listeners')}")

        if args.batch_pods:
            names = [f"batch-{i:03d}" for i in range(1, args.batch_pods + 1)]
            started = time.perf_counter()
            bench.make_pods(names, target.workload_image, sidecar=True, labels={"bench": "batch"}, timeout=900,
                            probes=False)
            print(f"{args.batch_pods} two-container pods Ready in {time.perf_counter() - started:.1f}s", flush=True)
            first = bench.kubectl_podnet(selector="bench=batch")
            items = first.json().get("items") or []
            if len(items) != args.batch_pods:
                raise SystemExit(f"bench: the batch answered {len(items)} of {args.batch_pods} pods")
            for round_ in range(args.rounds):
                times["batch"].append(bench.kubectl_podnet(selector="bench=batch").seconds)
                cpu["batch"].append(bench.cpu)
                print(f"batch round {round_ + 1}: {times['batch'][-1]:.2f}s", flush=True)
            kubectl("delete", "pods", "-n", namespace, "-l", "bench=batch", "--wait=true", "--timeout=300s",
                    timeout=330)

        for round_ in range(args.cold_rounds):
            bench.podnet("agent", "uninstall", "--timeout", "180")
            run = bench.kubectl_podnet("web")
            if "sending the agent code" not in run.stderr:
                raise SystemExit(f"bench: the cold run did not send the code\n{run.describe()}")
            times["cold"].append(run.seconds)
            print(f"cold round {round_ + 1}: {run.seconds:.2f}s", flush=True)
    finally:
        kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=300s", check=False, timeout=330)
        if not had_agent:
            bench.podnet("agent", "uninstall", "--timeout", "180")

    results["medians"] = {step: median(values) for step, values in times.items()}
    results["cpu_medians"] = {step: median(values) for step, values in cpu.items()}
    report(results, args.batch_pods)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def report(r: dict[str, Any], batch_pods: int) -> None:
    t, m = r["seconds"], r["medians"]

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    print(f"\n{r['rounds']} alternating warm rounds ({r['target']}):")
    print(f"  warm   kubectl podnet inspect POD -o json  {spread(t['inspect'])}")
    print(f"  exec   kubectl exec <agent pod> -- true    {spread(t['exec'])}")
    print(f"  manual ({len(MANUAL)} commands)                  {spread(t['manual'])}")
    print(f"  kubectl podnet version                    {spread(t['version'])}")
    print(f"  kubectl podnet inspect -h                 {spread(t['help'])}")
    print(f"  batch  {batch_pods} two-container pods, one -l   {spread(t['batch'])}")
    print(f"  cold   agent not installed               {spread(t['cold'])}")
    c = r["cpu_medians"]
    print("client CPU (user+sys of the process a user starts; medians): "
          + ", ".join(f"{step} {c[step]:.3f}s" for step in c))
    print("against the targets (medians):")
    print(f"  warm / exec   = {m['inspect'] / m['exec']:.2f}   {verdict(m['inspect'] <= WARM_PER_EXEC * m['exec'])}"
          f" <= {WARM_PER_EXEC}")
    print(f"  warm / manual = {m['inspect'] / m['manual']:.2f}   "
          f"{verdict(m['inspect'] <= WARM_PER_MANUAL * m['manual'])} <= {WARM_PER_MANUAL}")
    for step, what in (("version", "version"), ("help", "inspect -h")):
        print(f"  {what:13s} = {m[step]:.3f}s  {verdict(m[step] <= INSTANT)} <= {INSTANT}")
    if t["batch"]:
        print(f"  batch         = {m['batch']:.2f}s   {verdict(m['batch'] <= BATCH_TARGET)} <= {BATCH_TARGET:.0f} s")
    if t["cold"]:
        print(f"  cold          = {m['cold']:.2f}s   {verdict(m['cold'] <= COLD_TARGET)} <= {COLD_TARGET:.0f} s")


if __name__ == "__main__":
    sys.exit(main())

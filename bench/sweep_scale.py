"""Benchmark (not a test): a sweep (`inspect -A`) of a simulated 1,000-node cluster.

One machine cannot hold a cluster of 1,000 nodes x 30 pods, so the API server and the
agents are tests/simulated.py's SimulatedCluster: every API call sleeps `--api-latency`,
every exec `--exec-latency` (then answers a report per pod), and a few nodes are dead
(agent missing, agent not ready, exec that never answers) and cost `--timeout` each.
Everything of ours between them is real: selection, skipping, grouping by node, the
bounded parallel execs, the agent manager's warm path and waits, the envelope and
report decoding, and the renderers (the table and JUnit XML of every pod).

For each --max-parallel it prints the sweep's wall time (median of --rounds, the
settings alternating round by round) beside the bound ceil(nodes / max_parallel) x
exec time (and the same schedule with the dead nodes' timeouts), the client's CPU time,
and, in separate traced runs (tracemalloc slows Python, so it is never the timed one),
the client's peak memory for the table and JUnit (a sweep keeps only the verdicts) and
for -o json (whole reports): allocations during the sweep and the output, the simulated
API server's own store excluded.

    .venv/bin/python -m bench.sweep_scale [--nodes 1000] [--pods 30] [--max-parallel 8 32 64]
"""

from __future__ import annotations

import argparse
import gc
import math
import resource
import statistics
import time
import tracemalloc
from collections import Counter

from kubectl_podnet.cli.output import Format, renderer
from kubectl_podnet.cluster.agent import AgentManager
from kubectl_podnet.cluster.inspect_pods import inspect_pods
from kubectl_podnet.cluster.selection import Selection
from kubectl_podnet.outcome import PodOutcome, verdict_word, verdicts_only
from kubectl_podnet.render.junit import render_junit
from kubectl_podnet.render.summary import render_summary
from tests.simulated import SimulatedCluster


def _cluster(args: argparse.Namespace) -> SimulatedCluster:
    dead = args.dead
    return SimulatedCluster(
        args.nodes, args.pods, api_latency=args.api_latency, exec_latency=args.exec_latency,
        agent_missing=tuple(range(0, dead)), agent_not_ready=tuple(range(dead, 2 * dead)),
        exec_hangs=tuple(range(2 * dead, 3 * dead)), finished_every=10,
    )


def _sweep(cluster: SimulatedCluster, args: argparse.Namespace, parallel: int, whole: bool = False
           ) -> tuple[float, float, list[PodOutcome]]:
    """Wall time, the client's CPU time (all threads, the simulated agents' answers taken out) and the
    outcomes; as for the table and JUnit (verdicts only), or `whole` reports as for -o json."""
    started, cpu, agent_cpu = time.monotonic(), time.process_time(), cluster.agent_cpu
    outcomes = inspect_pods(cluster, Selection(None), AgentManager(cluster), args.timeout, True, lambda _: None,
                            max_parallel=parallel, keep=None if whole else verdicts_only)
    client_cpu = time.process_time() - cpu - (cluster.agent_cpu - agent_cpu)
    return time.monotonic() - started, client_cpu, outcomes


def _traced(cluster: SimulatedCluster, args: argparse.Namespace, parallel: int, whole: bool) -> tuple[int, int, int]:
    """Peak bytes allocated by the sweep, and by the sweep and its output (the table and JUnit,
    or with `whole` reports the JSON list); the output's size."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    _, _, outcomes = _sweep(cluster, args, parallel, whole)
    sweep_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.reset_peak()
    texts = [renderer(Format.json).many(outcomes, 100)] if whole else [render_summary(outcomes), render_junit(outcomes)]
    render_peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return sweep_peak, max(sweep_peak, render_peak), sum(len(text) for text in texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=30, help="running pods per node")
    parser.add_argument("--max-parallel", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument("--api-latency", type=float, default=0.02, help="seconds per API call")
    parser.add_argument("--exec-latency", type=float, default=0.5, help="seconds per agent exec")
    parser.add_argument("--dead", type=int, default=2, help="nodes of each dead kind (3 kinds)")
    parser.add_argument("--timeout", type=float, default=5.0, help="--timeout: what a dead node costs")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    built = time.monotonic()
    cluster = _cluster(args)
    print(f"simulated cluster: {args.nodes} nodes x {args.pods} pods (+ agents, + a finished pod every 10th node), "
          f"{3 * args.dead} dead nodes; built in {time.monotonic() - built:.1f}s", flush=True)
    print(f"latency: API call {args.api_latency * 1000:.0f} ms, exec {args.exec_latency * 1000:.0f} ms, "
          f"dead node {args.timeout:g} s (--timeout)\n", flush=True)

    walls: dict[int, list[float]] = {p: [] for p in args.max_parallel}
    cpus: dict[int, list[float]] = {p: [] for p in args.max_parallel}
    last: list[PodOutcome] = []
    for round_ in range(args.rounds):
        for parallel in args.max_parallel if round_ % 2 == 0 else reversed(args.max_parallel):
            calls_before, execs_before = cluster.api_calls, cluster.exec_count
            wall, cpu, last = _sweep(cluster, args, parallel)
            walls[parallel].append(wall)
            cpus[parallel].append(cpu)
            print(f"  round {round_ + 1} max-parallel {parallel:>3}: {wall:6.1f}s wall, {cpu:5.1f}s CPU "
                  f"({cluster.api_calls - calls_before} API calls, {cluster.exec_count - execs_before} execs)",
                  flush=True)
    kinds = Counter(verdict_word(item.outcome) for item in last)
    print(f"\noutcomes of a sweep: {len(last)} pods: {dict(kinds)}\n")

    dead = 3 * args.dead
    print("bound: ceil(nodes / max-parallel) x exec time; with dead: the same schedule when each dead node holds a")
    print("worker for --timeout: max(timeout, (live x exec + dead x timeout) / max-parallel, ceil(live / max-parallel) x exec)\n")
    print(f"{'max-parallel':>12}  {'bound':>7}  {'w/ dead':>7}  {'median':>7}  {'/bound':>6}  {'/w dead':>7}  "
          f"{'client CPU':>10}")
    for parallel in args.max_parallel:
        bound = math.ceil(args.nodes / parallel) * args.exec_latency
        live = args.nodes - dead
        with_dead = max(args.timeout if dead else 0, (live * args.exec_latency + dead * args.timeout) / parallel,
                        math.ceil(live / parallel) * args.exec_latency)
        median = statistics.median(walls[parallel])
        print(f"{parallel:>12}  {bound:>6.1f}s  {with_dead:>6.1f}s  {median:>6.1f}s  {median / bound:>5.2f}x  "
              f"{median / with_dead:>6.2f}x  {statistics.median(cpus[parallel]):>9.1f}s", flush=True)
    print("\nmemory (tracemalloc, a separate run at the largest max-parallel; the simulated server's store excluded):")
    for whole, what in ((False, "table + JUnit (verdicts kept)"), (True, "-o json (whole reports kept)")):
        sweep_peak, render_peak, size = _traced(cluster, args, max(args.max_parallel), whole)
        print(f"  {what:<32} peak {sweep_peak / 2**20:5.0f} MiB during the sweep, {render_peak / 2**20:5.0f} MiB "
              f"with the output ({size / 2**20:.0f} MiB of text)", flush=True)
    print(f"  process maxrss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB "
          "(the simulated API server's copy of every pod, as dicts and as JSON, included)")


if __name__ == "__main__":
    main()

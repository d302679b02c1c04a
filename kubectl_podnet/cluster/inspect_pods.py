"""`kubectl podnet inspect`: resolve pods, reach their nodes' agents, get reports back.

Pods are grouped by node and each node's agent is asked once for all of its pods (one
exec; the agent's start-up, ~0.3 s, is paid once per node, not once per pod). Nodes run
in parallel, at most `max_parallel` at a time, each within its own `timeout` (the wait for
its agent and the exec together), so a dead or slow node costs its own pods an error
each and never holds up the others.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.agent import AgentManager, AgentPod, Progress
from kubectl_podnet.cluster.agent_zip import Payload, build_payload
from kubectl_podnet.cluster.manifests import CONTAINER
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.cluster.port import ClusterPort, Obj
from kubectl_podnet.cluster.selection import Selection, select_pods, skip_reason
from kubectl_podnet.envelope import outcomes_from, parse_envelope
from kubectl_podnet.errors import AgentError, ClusterError, NoPodProcess, PodnetError
from kubectl_podnet.model import InspectRequest, PodNetReport
from kubectl_podnet.outcome import Outcome, PodOutcome, Skipped
from kubectl_podnet.serde import to_json

@dataclass(frozen=True)
class AgentRun:
    outcomes: list[Outcome]  # one per request, in order
    sent_payload: bool
    resident_pid: int | None = None  # the resident agent that answered; None: it ran inline


def exec_agent(
    cluster: ClusterPort, agent: AgentPod, request_json: str, timeout: float, progress: Progress, payload: Payload
) -> tuple[dict[str, Any], bool]:
    """One request (any agent request as JSON) to the agent pod, sending our code first if it lacks it."""
    where = f"pod {agent.namespace}/{agent.name}"
    if not agent.fresh:  # a new pod lacks our code for sure: send it without asking
        argv = bootstrap.command(payload.digest, "run", request_json, timeout)
        result = cluster.exec(agent.namespace, agent.name, CONTAINER, argv, None, timeout)
        envelope = parse_envelope(result.stdout, result.stderr, result.exit_code, where)
        if not envelope.get("needPayload"):
            return envelope, False
    progress(f"sending the agent code ({len(payload.data) // 1024} KiB, sha256 {payload.digest[:12]}) to {where}")
    argv = bootstrap.command(payload.digest, "install", request_json, timeout)
    result = cluster.exec(agent.namespace, agent.name, CONTAINER, argv, bootstrap.frame(payload.data), timeout)
    return parse_envelope(result.stdout, result.stderr, result.exit_code, where), True


def run_agent(
    cluster: ClusterPort,
    agent: AgentPod,
    requests: list[InspectRequest],
    timeout: float,
    progress: Progress,
    payload: Payload | None = None,
) -> AgentRun:
    """Ask one node's agent about `requests` in one exec (two when it lacks our code)."""
    request_json = json.dumps([to_json(r) for r in requests], separators=(",", ":"))
    where = f"pod {agent.namespace}/{agent.name}"
    envelope, sent = exec_agent(cluster, agent, request_json, timeout, progress, payload or build_payload())
    outcomes = outcomes_from(envelope, len(requests), where, agent.node)
    served = envelope.get("servedBy")
    resident = served.get("pid") if isinstance(served, dict) and served.get("resident") else None
    if os.environ.get("PODNET_DEBUG"):
        how = f"its resident agent (pid {resident})" if resident else "an agent started for this run"
        progress(f"debug: {where} answered from {how}")
    return AgentRun(outcomes=outcomes, sent_payload=sent, resident_pid=resident if isinstance(resident, int) else None)


def run_agent_on(
    cluster: ClusterPort, agents: AgentManager, agent: AgentPod, requests: list[InspectRequest], timeout: float,
    progress: Progress,
) -> AgentRun:
    """run_agent, saying so plainly when the failure was the agent pod going away."""
    try:
        return run_agent(cluster, agent, requests, timeout, progress)
    except PodnetError as exc:
        try:
            gone = not agents.still_there(agent)
        except PodnetError:
            gone = False
        if gone:
            raise AgentError(
                f"the agent pod {agent.namespace}/{agent.name} went away during the inspect",
                hint="rerun: the DaemonSet starts a new one",
            ) from exc
        raise


MAX_PARALLEL = 8
Tally = Callable[[int, int], None]  # pods done, pods in all


def _no_tally(done: int, total: int) -> None:
    return None


def why_no_process(cluster: ClusterPort, pod: Obj, error: NoPodProcess) -> PodnetError:
    """The agent found no process of the pod: re-read it and say what happened to it."""
    meta = pod["metadata"]
    where = f"pod {meta.get('namespace')}/{meta['name']}"
    try:
        now = cluster.read_pod(meta.get("namespace") or "", meta["name"])
    except ClusterError as exc:
        if exc.message.endswith("not found"):
            return ClusterError(f"{where} was deleted during the inspect")
        return error
    if now["metadata"].get("uid") != meta.get("uid"):
        return ClusterError(
            f"{where} was recreated under a new uid during the inspect ({meta.get('uid')} is gone, "
            f"{now['metadata'].get('uid')} replaced it)", hint="rerun to inspect the new one"
        )
    try:
        inspect_request(now)
    except ClusterError as exc:  # not running (yet, or any more), or finished
        return ClusterError(f"{exc.message}; the agent found none of its processes")
    return error  # it runs, by the API: the agent cannot see it (not in the host PID namespace?)


def _inspect_node(
    cluster: ClusterPort, agents: AgentManager, node: str, batch: list[tuple[int, InspectRequest, Obj]],
    timeout: float, install: bool, progress: Progress, keep: Callable[[Outcome], Outcome] | None = None,
) -> list[Outcome]:
    """One node's pods, within `timeout` for the agent wait and the exec together; `keep`
    applied here, in the node's thread, so its future never holds more than that."""
    deadline = time.monotonic() + timeout
    try:
        agent = agents.ensure_on(node, timeout, install)
        left = max(1.0, deadline - time.monotonic())
        answers: list[Outcome] = run_agent_on(cluster, agents, agent, [r for _, r, _ in batch], left, progress).outcomes
    except PodnetError as exc:
        return [exc] * len(batch)
    outcomes = [why_no_process(cluster, pod, answer) if isinstance(answer, NoPodProcess) else answer
                for (_, _, pod), answer in zip(batch, answers)]
    return [keep(outcome) for outcome in outcomes] if keep else outcomes


def _slim(pod: Obj) -> Obj:
    """What why_no_process needs of a pod: a sweep of 30,000 pods keeps no more of each."""
    meta = pod["metadata"]
    return {"metadata": {key: meta.get(key) for key in ("namespace", "name", "uid")}}


def inspect_pods(
    cluster: ClusterPort,
    selection: Selection,
    agents: AgentManager,
    timeout: float,
    install: bool,
    progress: Progress,
    max_parallel: int = MAX_PARALLEL,
    tally: Tally = _no_tally,
    keep: Callable[[Outcome], Outcome] | None = None,
) -> list[PodOutcome]:
    """Every pod selected, in order, each with its report, its own error, or why a sweep skipped it.

    `tally(done, total)` is called as pods are done: at once for those needing no agent,
    then as each node's batch comes back (nodes finish in any order). `keep` is what is
    kept of each node's answers as they arrive (e.g. outcome.verdicts_only), so a big sweep
    never holds every pod's facts.
    """
    pods: list[tuple[str, str, str | None]] = []
    outcomes: dict[int, Outcome] = {}
    by_node: dict[str, list[tuple[int, InspectRequest, Obj]]] = {}
    for pod in select_pods(cluster, selection):  # a sweep's raw pods pass by a page at a time
        index = len(pods)
        if isinstance(pod, PodOutcome):
            pods.append((pod.namespace, pod.name, None))
            outcomes[index] = pod.outcome
            continue
        node = pod.get("spec", {}).get("nodeName")
        pods.append((pod["metadata"].get("namespace", selection.namespace or ""), pod["metadata"]["name"], node))
        skipped = skip_reason(pod, agents.namespace) if selection.sweep else None
        if skipped is not None:
            outcomes[index] = skipped
            continue
        try:
            request = inspect_request(pod)
        except PodnetError as exc:
            outcomes[index] = exc
            continue
        by_node.setdefault(request.node or "", []).append((index, request, _slim(pod)))
    total, done = len(pods), len(outcomes)
    tally(done, total)
    with ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(by_node) or 1))) as pool:
        futures = {pool.submit(_inspect_node, cluster, agents, node, batch, timeout, install, progress, keep): batch
                   for node, batch in by_node.items()}
        for future in as_completed(futures):
            batch = futures[future]
            outcomes.update((index, answer) for (index, _, _), answer in zip(batch, future.result()))
            done += len(batch)
            tally(done, total)
    return [PodOutcome(ns, name, outcomes[index], node) for index, (ns, name, node) in enumerate(pods)]


def inspect_pod(
    cluster: ClusterPort,
    namespace: str,
    name: str,
    agents: AgentManager,
    timeout: float,
    install: bool,
    progress: Progress,
) -> PodNetReport:
    """One pod: its report, or its error raised."""
    (item,) = inspect_pods(cluster, Selection(namespace, (name,)), agents, timeout, install, progress)
    if isinstance(item.outcome, PodnetError):
        raise item.outcome
    if isinstance(item.outcome, Skipped):  # only a sweep skips; a pod asked for by name is inspected or fails
        raise ClusterError(f"pod {namespace}/{name} was skipped: {item.outcome.reason}")
    return item.outcome

"""`kubectl podnet inspect`: resolve pods, reach their nodes' agents, get reports back.

Pods are grouped by node and each node's agent is asked once for all of its pods (one
exec; the agent's start-up, ~0.3 s, is paid once per node, not once per pod).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Union

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.agent import AgentManager, AgentPod, Progress
from kubectl_podnet.cluster.manifests import CONTAINER
from kubectl_podnet.cluster.payload import Payload, build_payload
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.cluster.port import ClusterPort, Obj
from kubectl_podnet.envelope import parse_envelope, report_from
from kubectl_podnet.errors import AgentError, ClusterError, PodnetError
from kubectl_podnet.model import InspectRequest, PodNetReport
from kubectl_podnet.serde import to_json

Outcome = Union[PodNetReport, PodnetError]


@dataclass(frozen=True)
class AgentRun:
    outcomes: list[Outcome]  # one per request, in order
    sent_payload: bool


@dataclass(frozen=True)
class PodOutcome:
    namespace: str
    name: str
    outcome: Outcome


def exec_agent(
    cluster: ClusterPort, agent: AgentPod, request_json: str, timeout: float, progress: Progress, payload: Payload
) -> tuple[dict[str, Any], bool]:
    """One request (any agent request as JSON) to the agent pod, sending our code first if it lacks it."""
    where = f"pod {agent.namespace}/{agent.name}"
    argv = bootstrap.command(payload.digest, "run", request_json)
    result = cluster.exec(agent.namespace, agent.name, CONTAINER, argv, None, timeout)
    envelope = parse_envelope(result.stdout, result.stderr, result.exit_code, where)
    if not envelope.get("needPayload"):
        return envelope, False
    progress(f"sending the agent code ({len(payload.data) // 1024} KiB, sha256 {payload.digest[:12]}) to {where}")
    argv = bootstrap.command(payload.digest, "install", request_json)
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
    if envelope.get("kind") != "AgentResultList":
        report_from(envelope, where, agent.node)  # a whole-batch failure: raises it
        raise ClusterError(f"the agent in {where} answered one result for {len(requests)} requests")
    items = envelope.get("items") or []
    if len(items) != len(requests):
        raise ClusterError(f"the agent in {where} answered {len(items)} results for {len(requests)} requests")
    outcomes: list[Outcome] = []
    for item in items:
        try:
            outcomes.append(report_from(item, where, agent.node))
        except PodnetError as exc:
            outcomes.append(exc)
    return AgentRun(outcomes=outcomes, sent_payload=sent)


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


def select_pods(cluster: ClusterPort, namespace: str, names: list[str], selector: str | None) -> list[Obj | PodOutcome]:
    """The pods asked for, by name (a missing one becomes its error) or by label selector."""
    if selector:
        pods: list[Obj | PodOutcome] = list(cluster.list_pods(namespace, selector))
        if not pods:
            raise ClusterError(f"no pod in namespace {namespace} matches {selector!r}")
        return pods
    found: list[Obj | PodOutcome] = []
    for name in names:
        try:
            found.append(cluster.read_pod(namespace, name))
        except PodnetError as exc:
            found.append(PodOutcome(namespace, name, exc))
    return found


def inspect_pods(
    cluster: ClusterPort,
    namespace: str,
    names: list[str],
    selector: str | None,
    agents: AgentManager,
    timeout: float,
    install: bool,
    progress: Progress,
) -> list[PodOutcome]:
    """Every pod asked for, in order, each with its report or its own error."""
    pods: list[tuple[str, str]] = []
    outcomes: dict[int, Outcome] = {}
    by_node: dict[str, list[tuple[int, InspectRequest]]] = {}
    for pod in select_pods(cluster, namespace, names, selector):
        index = len(pods)
        if isinstance(pod, PodOutcome):
            pods.append((pod.namespace, pod.name))
            outcomes[index] = pod.outcome
            continue
        pods.append((pod["metadata"].get("namespace", namespace), pod["metadata"]["name"]))
        try:
            request = inspect_request(pod)
        except PodnetError as exc:
            outcomes[index] = exc
            continue
        by_node.setdefault(request.node or "", []).append((index, request))
    for node, batch in by_node.items():
        try:
            agent = agents.ensure_on(node, timeout, install)
            answers: list[Outcome] = run_agent_on(cluster, agents, agent, [r for _, r in batch], timeout, progress).outcomes
        except PodnetError as exc:
            answers = [exc] * len(batch)
        outcomes.update((index, answer) for (index, _), answer in zip(batch, answers))
    return [PodOutcome(ns, name, outcomes[index]) for index, (ns, name) in enumerate(pods)]


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
    (item,) = inspect_pods(cluster, namespace, [name], None, agents, timeout, install, progress)
    if isinstance(item.outcome, PodnetError):
        raise item.outcome
    return item.outcome

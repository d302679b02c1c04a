"""`kubectl podnet inspect`: resolve the pod, reach its node's agent, get the report back."""

from __future__ import annotations

import json
from dataclasses import dataclass

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.agent import AgentManager, AgentPod, Progress
from kubectl_podnet.cluster.manifests import CONTAINER
from kubectl_podnet.cluster.payload import Payload, build_payload
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.cluster.port import ClusterPort
from kubectl_podnet.envelope import parse_envelope, report_from
from kubectl_podnet.model import InspectRequest, PodNetReport
from kubectl_podnet.serde import to_json


@dataclass(frozen=True)
class AgentRun:
    report: PodNetReport
    sent_payload: bool


def run_agent(
    cluster: ClusterPort,
    agent: AgentPod,
    request: InspectRequest,
    timeout: float,
    progress: Progress,
    payload: Payload | None = None,
) -> AgentRun:
    payload = payload or build_payload()
    request_json = json.dumps(to_json(request), separators=(",", ":"))
    where = f"pod {agent.namespace}/{agent.name}"
    argv = bootstrap.command(payload.digest, "run", request_json)
    result = cluster.exec(agent.namespace, agent.name, CONTAINER, argv, None, timeout)
    envelope = parse_envelope(result.stdout, result.stderr, result.exit_code, where)
    sent = False
    if envelope.get("needPayload"):
        progress(f"sending the agent code ({len(payload.data) // 1024} KiB, sha256 {payload.digest[:12]}) to {where}")
        argv = bootstrap.command(payload.digest, "install", request_json)
        result = cluster.exec(agent.namespace, agent.name, CONTAINER, argv, bootstrap.frame(payload.data), timeout)
        envelope = parse_envelope(result.stdout, result.stderr, result.exit_code, where)
        sent = True
    report = report_from(envelope, where, agent.node)
    code = envelope.get("exitCode")
    if result.exit_code is not None and code is not None and result.exit_code != code:
        progress(f"note: exec status {result.exit_code} differs from the agent's own {code}; using the agent's")
    return AgentRun(report=report, sent_payload=sent)


def inspect_pod(
    cluster: ClusterPort,
    namespace: str,
    name: str,
    agents: AgentManager,
    timeout: float,
    install: bool,
    progress: Progress,
) -> AgentRun:
    request = inspect_request(cluster.read_pod(namespace, name))
    assert request.node is not None
    agent = agents.ensure_on(request.node, timeout, install)
    return run_agent(cluster, agent, request, timeout, progress)



"""`kubectl podnet inspect`: resolve the pod, reach its node's agent, get the report back."""

from __future__ import annotations

import json
from dataclasses import dataclass

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.agent import AgentManager, AgentPod, Progress
from kubectl_podnet.cluster.manifests import CONTAINER
from kubectl_podnet.cluster.payload import Payload, build_payload
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.cluster.port import ClusterPort, ExecResult
from kubectl_podnet.errors import AgentError, ExitStatus, NodeError, UsageError
from kubectl_podnet.model import InspectRequest, PodNetReport
from kubectl_podnet.serde import from_json, to_json


@dataclass(frozen=True)
class AgentRun:
    report: PodNetReport
    sent_payload: bool


def _envelope(result: ExecResult, where: str) -> dict[str, object]:
    text = result.stdout.decode("utf-8", "replace").strip()
    last = text.splitlines()[-1] if text else ""
    try:
        envelope = json.loads(last)
    except ValueError:
        detail = (result.stderr.strip() or text or "no output").splitlines()[-1][:300]
        raise AgentError(f"the agent in {where} gave no result (exit {result.exit_code}): {detail}") from None
    if not isinstance(envelope, dict) or envelope.get("kind") != "AgentResult":
        raise AgentError(f"the agent in {where} answered something else than an AgentResult")
    return envelope


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
    envelope = _envelope(result, where)
    sent = False
    if envelope.get("needPayload"):
        progress(f"sending the agent code ({len(payload.data) // 1024} KiB, sha256 {payload.digest[:12]}) to {where}")
        argv = bootstrap.command(payload.digest, "install", request_json)
        result = cluster.exec(agent.namespace, agent.name, CONTAINER, argv, bootstrap.frame(payload.data), timeout)
        envelope = _envelope(result, where)
        sent = True
    error = envelope.get("error")
    if isinstance(error, dict):
        message = str(error.get("message"))
        if error.get("kind") == "UsageError":
            raise UsageError(message)
        if error.get("kind") == "NodeError":
            raise NodeError(f"on node {agent.node}: {message}")
        raise AgentError(f"the agent in {where} failed: {message}")
    code = envelope.get("exitCode")
    if result.exit_code is not None and code is not None and result.exit_code != code:
        progress(f"note: exec status {result.exit_code} differs from the agent's own {code}; using the agent's")
    if envelope.get("report") is None:
        raise AgentError(f"the agent in {where} returned no report (exit {code})")
    return AgentRun(report=from_json(PodNetReport, envelope["report"]), sent_payload=sent)


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


__all__ = ["inspect_pod", "run_agent", "AgentRun", "ExitStatus"]

"""Read the agent's answer: one `AgentResult` JSON line, back into a report or our errors.

Shared by every way the agent is run (exec in the agent pod, the lab's node netns), so an
agent failure reads the same wherever it happened.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from kubectl_podnet.connect_model import ConnectSide
from kubectl_podnet.errors import AgentError, NodeError, NoPodProcess, UsageError
from kubectl_podnet.model import PodNetReport
from kubectl_podnet.serde import from_json

T = TypeVar("T")


def parse_envelope(stdout: bytes | str, stderr: str, exit_code: int | None, where: str) -> dict[str, Any]:
    text = (stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout).strip()
    last = text.splitlines()[-1] if text else ""
    try:
        envelope = json.loads(last)
    except (ValueError, RecursionError):
        detail = (stderr.strip() or text or "no output").splitlines()[-1][:300]
        raise AgentError(f"the agent in {where} gave no result (exit {exit_code}): {detail}") from None
    if not isinstance(envelope, dict) or envelope.get("kind") not in ("AgentResult", "AgentResultList"):
        raise AgentError(f"the agent in {where} answered something else than an AgentResult")
    return envelope


def _raise_error(envelope: dict[str, Any], where: str, node: str | None) -> None:
    error = envelope.get("error")
    if isinstance(error, dict):
        message = str(error.get("message"))
        if error.get("kind") == "UsageError":
            raise UsageError(message)
        if error.get("kind") in ("NodeError", "NoPodProcess"):
            kind = NoPodProcess if error.get("kind") == "NoPodProcess" else NodeError
            raise kind(f"on node {node}: {message}" if node else message)
        raise AgentError(f"the agent in {where} failed: {message}")


def _payload(envelope: dict[str, Any], key: str, cls: type[T], what: tuple[str, str], where: str,
             node: str | None) -> T:
    """The agent's answer under `key` as `cls`, or the agent's own error re-raised as ours;
    `what` names it after "no" and after "sent"."""
    _raise_error(envelope, where, node)
    if envelope.get(key) is None:
        raise AgentError(f"the agent in {where} returned no {what[0]} (exit {envelope.get('exitCode')})")
    try:
        return from_json(cls, envelope[key])
    except ValueError as exc:
        raise AgentError(f"the agent in {where} sent {what[1]} this plugin cannot read: {exc}") from exc


def report_from(envelope: dict[str, Any], where: str, node: str | None) -> PodNetReport:
    """The report in an envelope, or the agent's own error re-raised as ours."""
    return _payload(envelope, "report", PodNetReport, ("report", "a report"), where, node)


def side_from(envelope: dict[str, Any], where: str, node: str | None) -> ConnectSide:
    """One node's side of a connect in an envelope, or the agent's own error re-raised as ours."""
    return _payload(envelope, "side", ConnectSide, ("connect facts", "connect facts"), where, node)

"""Read the agent's answer: one `AgentResult` JSON line, back into a report or our errors.

Shared by every way the agent is run (exec in the agent pod, the lab's node netns), so an
agent failure reads the same wherever it happened.
"""

from __future__ import annotations

import json
from typing import Any

from kubectl_podnet.connect_model import ConnectSide
from kubectl_podnet.errors import AgentError, NodeError, NoPodProcess, UsageError
from kubectl_podnet.model import PodNetReport
from kubectl_podnet.serde import from_json


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


def report_from(envelope: dict[str, Any], where: str, node: str | None) -> PodNetReport:
    """The report in an envelope, or the agent's own error re-raised as ours."""
    _raise_error(envelope, where, node)
    if envelope.get("report") is None:
        raise AgentError(f"the agent in {where} returned no report (exit {envelope.get('exitCode')})")
    try:
        return from_json(PodNetReport, envelope["report"])
    except ValueError as exc:
        raise AgentError(f"the agent in {where} sent a report this plugin cannot read: {exc}") from exc


def side_from(envelope: dict[str, Any], where: str, node: str | None) -> ConnectSide:
    """One node's side of a connect in an envelope, or the agent's own error re-raised as ours."""
    _raise_error(envelope, where, node)
    if envelope.get("side") is None:
        raise AgentError(f"the agent in {where} returned no connect facts (exit {envelope.get('exitCode')})")
    try:
        return from_json(ConnectSide, envelope["side"])
    except ValueError as exc:
        raise AgentError(f"the agent in {where} sent connect facts this plugin cannot read: {exc}") from exc

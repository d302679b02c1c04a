"""The agent's answer, both ends: the JSON line the engine prints, and its reading back.

The client reads it back into reports, connect facts and errors of our own tree.
`AgentResult` carries one report (or one node's side of a connect) or one error;
`AgentResultList` carries a result per request of a batch, plus the node's own view when a
map was asked. Every answer carries its exit code, because the exec status channel can be
lost after a timeout or a race. An error travels as its class name and message and comes
back as the same class of `errors.py`, so an agent failure reads the same wherever the
agent ran: exec in the agent pod, the lab's node netns, or a node as root.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from kubectl_podnet.errors import AgentError, NodeError, PodnetError
from kubectl_podnet.model import API_VERSION, HostView, MapError, PodNetReport
from kubectl_podnet.serde import from_json

if TYPE_CHECKING:  # the engine imports this module on every run: the client's types load when read
    from kubectl_podnet.connect_model import ConnectSide
    from kubectl_podnet.outcome import Outcome

RESULT_KIND = "AgentResult"  # around one report, one connect side, or one error
RESULT_LIST_KIND = "AgentResultList"  # around a batch: one AgentResult per request

T = TypeVar("T")


# --- the node side: what the engine prints

def result(code: int, report: object = None, error: dict[str, str] | None = None) -> dict[str, object]:
    return {"apiVersion": API_VERSION, "kind": RESULT_KIND, "exitCode": code, "report": report, "error": error}


def error_result(exc: PodnetError) -> tuple[int, dict[str, object]]:
    code = int(exc.exit_status)
    return code, result(code, error={"kind": type(exc).__name__, "message": exc.one_line()})


def result_list(items: list[tuple[int, dict[str, object]]]) -> tuple[int, dict[str, object]]:
    """The batch's answer; its exit code is the worst of its items'."""
    code = max((item_code for item_code, _ in items), default=0)
    return code, {"apiVersion": API_VERSION, "kind": RESULT_LIST_KIND, "exitCode": code,
                  "items": [item for _, item in items]}


# --- the client side: reading it back

def parse_envelope(stdout: bytes | str, stderr: str, exit_code: int | None, where: str) -> dict[str, Any]:
    text = (stdout.decode("utf-8", "replace") if isinstance(stdout, bytes) else stdout).strip()
    last = text.splitlines()[-1] if text else ""
    try:
        envelope = json.loads(last)
    except (ValueError, RecursionError):
        detail = (stderr.strip() or text or "no output").splitlines()[-1][:300]
        raise AgentError(f"the agent in {where} gave no result (exit {exit_code}): {detail}") from None
    if not isinstance(envelope, dict) or envelope.get("kind") not in (RESULT_KIND, RESULT_LIST_KIND):
        raise AgentError(f"the agent in {where} answered something else than an {RESULT_KIND}")
    return envelope


def _error_tree() -> dict[str, type[PodnetError]]:
    found: dict[str, type[PodnetError]] = {}
    pending: list[type[PodnetError]] = [PodnetError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls
        pending += cls.__subclasses__()
    return found


_ERRORS = _error_tree()


def _raise_error(envelope: dict[str, Any], where: str, node: str | None) -> None:
    """The agent's error as the same class of ours: a node's error names the node; one the
    agent itself met, or a name this plugin does not know, says which agent failed."""
    error = envelope.get("error")
    if not isinstance(error, dict):
        return
    message = str(error.get("message"))
    cls = _ERRORS.get(str(error.get("kind")))
    if cls is None or cls is PodnetError or issubclass(cls, AgentError):
        raise AgentError(f"the agent in {where} failed: {message}")
    if issubclass(cls, NodeError):
        raise cls(f"on node {node}: {message}" if node else message)
    raise cls(message)


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
    from kubectl_podnet.connect_model import ConnectSide

    return _payload(envelope, "side", ConnectSide, ("connect facts", "connect facts"), where, node)


def _items(envelope: dict[str, Any], expected: int, where: str, node: str | None, unit: str = "requests",
           ) -> list[dict[str, Any]]:
    if envelope.get("kind") != RESULT_LIST_KIND:
        report_from(envelope, where, node)  # a whole-batch failure: raises it
        raise AgentError(f"the agent in {where} answered one result for {expected} {unit}")
    items = envelope.get("items")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise AgentError(f"the agent in {where} answered an {RESULT_LIST_KIND} without a list of results")
    if len(items) != expected:
        raise AgentError(f"the agent in {where} answered {len(items)} results for {expected} {unit}")
    return items


def outcomes_from(envelope: dict[str, Any], expected: int, where: str, node: str | None, unit: str = "requests",
                  ) -> list[Outcome]:
    """A batch answer: one report or error per request, or the whole batch's error raised."""
    outcomes: list[Outcome] = []
    for item in _items(envelope, expected, where, node, unit):
        try:
            outcomes.append(report_from(item, where, node))
        except PodnetError as exc:
            outcomes.append(exc)
    return outcomes


def map_from(envelope: dict[str, Any], where: str, node: str | None, asked: list[tuple[str | None, str | None]],
             ) -> tuple[HostView, list[PodNetReport], list[MapError]]:
    """The answer to a NodeMapRequest (`asked`: each pod's namespace and name, in order):
    the node's view, the pods' reports, and an error for each pod that has none."""
    if envelope.get("kind") == RESULT_KIND:
        report_from(envelope, where, node)  # a whole-request failure: raises it
    if envelope.get("kind") != RESULT_LIST_KIND or not isinstance(envelope.get("hostView"), dict):
        raise AgentError(f"the agent in {where} answered no node view")
    outcomes = outcomes_from(envelope, len(asked), where, node, "pods")
    try:
        host = from_json(HostView, envelope["hostView"])
    except ValueError as exc:
        raise AgentError(f"the agent in {where} sent a node view this plugin cannot read: {exc}") from exc
    reports = [outcome for outcome in outcomes if isinstance(outcome, PodNetReport)]
    missed = [MapError(namespace=namespace, name=name, message=outcome.one_line())
              for (namespace, name), outcome in zip(asked, outcomes) if isinstance(outcome, PodnetError)]
    return host, reports, missed

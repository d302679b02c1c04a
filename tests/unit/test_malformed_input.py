"""Malformed and random input to the two parsers at the node/client edge (property-based).

The agent's request parser (`kubectl_podnet.node` `run()`/`main()`) and the client's
envelope parser (`parse_envelope`, `report_from`, `outcomes_from`) meet whatever an exec
delivers: each must answer in one line with a documented exit code, never a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubectl_podnet.checks.report import build_report
from kubectl_podnet.envelope import outcomes_from, parse_envelope, report_from
from kubectl_podnet.errors import AgentError, ExitStatus, PodnetError
from kubectl_podnet.node.engine import main, run
from kubectl_podnet.serde import to_json
from tests.factories import healthy

DOCUMENTED = {int(status) for status in ExitStatus}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
uids = st.uuids().map(str)
request_like = st.fixed_dictionaries(
    {"podUid": uids | st.text(max_size=40)},
    optional={
        "containers": st.lists(st.fixed_dictionaries(
            {"id": st.text("0123456789abcdef", min_size=0, max_size=64) | json_values},
            optional={"name": json_values, "role": json_values, "status": json_values}), max_size=3) | json_values,
        "podIps": st.lists(st.text(max_size=15), max_size=2) | json_values,
        "hostNetwork": json_values,
        "probeTimeout": st.floats(allow_nan=True) | json_values,
        "namespace": json_values,
    },
)
agent_text = (
    st.text(max_size=200)
    | json_values.map(json.dumps)
    | request_like.map(json.dumps)
    | st.lists(request_like, max_size=3).map(json.dumps)
    | st.integers(min_value=1, max_value=5000).map(lambda depth: "[" * depth)
)
relaxed = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _one_json_line(text: str) -> dict[str, Any]:
    assert text.endswith("\n") and text.count("\n") == 1, text
    parsed = json.loads(text)
    assert isinstance(parsed, dict)
    return parsed


@relaxed
@given(agent_text)
def test_the_agent_answers_any_request_text_with_one_envelope_and_a_documented_code(text: str) -> None:
    code, envelope = run(text)
    assert code in DOCUMENTED
    assert envelope["kind"] in ("AgentResult", "AgentResultList") and envelope["exitCode"] == code
    line = json.dumps(envelope, separators=(",", ":")) + "\n"
    assert _one_json_line(line)["exitCode"] == code
    error = envelope.get("error")
    if isinstance(error, dict):
        assert "\n" not in str(error["message"])


@relaxed
@given(agent_text.filter(lambda text: not text.startswith("-")))
def test_the_agent_main_prints_exactly_one_json_line(text: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--request", text])
    assert code in DOCUMENTED and _one_json_line(out.getvalue())["exitCode"] == code


def _one_line_error(exc: PodnetError) -> None:
    assert "\n" not in exc.one_line() and int(exc.exit_status) in DOCUMENTED


envelopes = st.fixed_dictionaries(
    {"kind": st.sampled_from(["AgentResult", "AgentResultList"]) | json_values},
    optional={"items": st.lists(json_values, max_size=3) | json_values, "report": json_values,
              "error": st.fixed_dictionaries({"kind": st.sampled_from(["UsageError", "NodeError", "NoPodProcess",
                                                                       "AgentError"]) | json_values,
                                              "message": json_values}) | json_values,
              "exitCode": json_values, "needPayload": json_values},
)
stdouts = (
    st.binary(max_size=200)
    | envelopes.map(lambda e: json.dumps(e).encode())
    | json_values.map(lambda v: json.dumps(v).encode())
    | st.integers(min_value=1, max_value=5000).map(lambda depth: b"{\"a\":" * depth)
)


@relaxed
@given(stdouts, st.text(max_size=80), st.none() | st.integers(min_value=-1, max_value=255),
       st.integers(min_value=1, max_value=3))
def test_the_client_reads_any_agent_output_into_outcomes_or_one_error_line(
    stdout: bytes, stderr: str, code: int | None, expected: int
) -> None:
    try:
        envelope = parse_envelope(stdout, stderr, code, "pod podnet-system/podnet-agent-x1")
        outcomes = outcomes_from(envelope, expected, "pod podnet-system/podnet-agent-x1", "node-1")
    except PodnetError as exc:
        _one_line_error(exc)
        return
    assert len(outcomes) == expected
    for outcome in outcomes:
        if isinstance(outcome, PodnetError):
            _one_line_error(outcome)


# ---- the envelope parser's branches, one by one --------------------------------------------


def test_no_envelope_names_the_last_stderr_line_and_the_exit_code() -> None:
    with pytest.raises(AgentError) as raised:
        parse_envelope(b"", "Traceback (most recent call last):\nImportError: no module named x\n", 1, "pod a/b")
    assert raised.value.one_line() == "the agent in pod a/b gave no result (exit 1): ImportError: no module named x"


def test_no_output_at_all_says_so() -> None:
    with pytest.raises(AgentError, match=r"gave no result \(exit None\): no output"):
        parse_envelope(b"", "", None, "pod a/b")


def test_a_json_line_of_another_kind_is_refused() -> None:
    with pytest.raises(AgentError, match="answered something else than an AgentResult"):
        parse_envelope(b'{"kind": "Status"}\n', "", 0, "pod a/b")
    with pytest.raises(AgentError, match="answered something else than an AgentResult"):
        parse_envelope(b"[1, 2]\n", "", 0, "pod a/b")


def test_an_unreadable_report_is_named_as_such() -> None:
    with pytest.raises(AgentError, match="sent a report this plugin cannot read: PodNetReport: missing field"):
        report_from({"kind": "AgentResult", "report": {"apiVersion": "podnet/v1"}}, "pod a/b", "node-1")


def test_a_report_round_trips_through_an_envelope() -> None:
    report = build_report(healthy())
    line = json.dumps({"kind": "AgentResult", "exitCode": 0, "report": to_json(report), "error": None})
    assert report_from(parse_envelope(line.encode(), "", 0, "pod a/b"), "pod a/b", "node-1") == report


def test_a_batch_answer_with_the_wrong_count_or_shape_is_an_agent_error() -> None:
    item = {"kind": "AgentResult", "exitCode": 3, "error": {"kind": "NodeError", "message": "gone"}}
    with pytest.raises(AgentError, match="answered 1 results for 2 requests"):
        outcomes_from({"kind": "AgentResultList", "items": [item]}, 2, "pod a/b", "node-1")
    with pytest.raises(AgentError, match="answered one result for 2 requests"):
        outcomes_from({"kind": "AgentResult", "report": to_json(build_report(healthy()))}, 2, "pod a/b", "node-1")
    with pytest.raises(AgentError, match="without a list of results"):
        outcomes_from({"kind": "AgentResultList", "items": "ab"}, 2, "pod a/b", "node-1")
    (only,) = outcomes_from({"kind": "AgentResultList", "items": [item]}, 1, "pod a/b", "node-1")
    assert isinstance(only, PodnetError) and only.one_line() == "on node node-1: gone"

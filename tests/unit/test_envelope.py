"""The agent's answer format, both ends: what the engine prints reads back as the same thing."""

from __future__ import annotations

import pytest

from kubectl_podnet.checks.report import build_report
from kubectl_podnet.envelope import RESULT_KIND, error_result, outcomes_from, report_from, result, result_list
from kubectl_podnet.errors import AgentError, ExitStatus, NodeError, PodnetError
from kubectl_podnet.serde import to_json
from tests.factories import healthy


def _tree() -> list[type[PodnetError]]:
    found, pending = [], [PodnetError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending += cls.__subclasses__()
    return found


@pytest.mark.parametrize("cls", _tree(), ids=lambda cls: cls.__name__)
def test_every_error_of_the_tree_comes_back_as_itself(cls: type[PodnetError]) -> None:
    code, envelope = error_result(cls("it broke"))
    assert code == envelope["exitCode"] == int(cls.exit_status) and envelope["kind"] == RESULT_KIND
    with pytest.raises(PodnetError) as raised:
        report_from(envelope, "pod podnet-system/agent-x", "node-1")
    if cls is PodnetError or issubclass(cls, AgentError):  # the agent's own trouble: say which agent
        assert type(raised.value) is AgentError
        assert raised.value.one_line() == "the agent in pod podnet-system/agent-x failed: it broke"
    else:
        assert type(raised.value) is cls
        expected = "on node node-1: it broke" if issubclass(cls, NodeError) else "it broke"
        assert raised.value.one_line() == expected
    assert raised.value.exit_status == cls.exit_status


def test_an_error_name_this_plugin_does_not_know_is_the_agent_failing() -> None:
    envelope = result(3, error={"kind": "SomethingNewer", "message": "what a newer agent says"})
    with pytest.raises(AgentError, match="the agent in pod a/b failed: what a newer agent says"):
        report_from(envelope, "pod a/b", None)


def test_a_batch_reads_back_item_by_item_with_the_worst_exit_code() -> None:
    report = build_report(healthy())
    items = [(0, result(0, to_json(report))), error_result(NodeError("no process of pod x"))]
    code, envelope = result_list(items)
    assert code == envelope["exitCode"] == int(ExitStatus.CLUSTER)
    first, second = outcomes_from(envelope, 2, "pod a/b", "node-1")
    assert first == report
    assert isinstance(second, NodeError) and second.one_line() == "on node node-1: no process of pod x"

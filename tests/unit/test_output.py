"""The one table of output formats: each format renders one report and a list, the same way everywhere."""

from __future__ import annotations

import json

import pytest
import yaml

from kubectl_podnet.checks.report import build_report
from kubectl_podnet.cli.output import Format, emit, emit_many, renderer
from kubectl_podnet.errors import ClusterError, ExitStatus
from kubectl_podnet.outcome import PodOutcome
from kubectl_podnet.serde import to_json
from tests.factories import healthy


@pytest.mark.parametrize("output", list(Format))
def test_every_format_renders_a_report_and_a_list(output: Format) -> None:
    chosen = renderer(output)
    report = build_report(healthy())
    assert chosen.one(report, 100)
    assert chosen.many([PodOutcome("default", "web", report)], 100)


@pytest.mark.parametrize("output", [Format.json, Format.yaml])
def test_structured_formats_print_the_same_document(output: Format) -> None:
    report = build_report(healthy())
    outcomes = [PodOutcome("default", "web", report), PodOutcome("default", "gone", ClusterError("pod gone"))]
    load = json.loads if output is Format.json else yaml.safe_load
    assert load(renderer(output).one(report, 100)) == to_json(report)
    listing = load(renderer(output).many(outcomes, 100))
    assert listing["kind"] == "PodNetReportList"
    assert listing["items"] == [to_json(report)]
    assert listing["errors"] == [{"namespace": "default", "name": "gone", "exitCode": 3, "message": "pod gone"}]
    assert listing["skipped"] == []


def test_manual_commands_never_mix_into_a_machine_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert emit(build_report(healthy()), Format.json, show_commands=True) is ExitStatus.OK
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kind"] == "PodNetReport"
    assert "By hand:" in captured.err


def test_text_keeps_manual_commands_beside_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    emit(build_report(healthy()), Format.text, show_commands=True)
    assert "By hand:" in capsys.readouterr().out


def test_a_list_exits_with_its_worst_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = [PodOutcome("default", "web", build_report(healthy())),
                PodOutcome("default", "gone", ClusterError("pod gone"))]
    assert emit_many(outcomes, Format.text) is ExitStatus.CLUSTER
    assert capsys.readouterr().out.endswith("2 pods: 1 passed, 0 failed a check, 1 could not be inspected, 0 skipped\n")


def test_a_json_list_is_the_text_json_dumps_would_write_for_it() -> None:
    """The list is encoded report by report (never one tree of dicts): the same bytes all the same."""
    from kubectl_podnet.render.structured import render_json_doc, report_list

    reports = [build_report(healthy()), build_report(healthy())]
    document = report_list(reports, [{"namespace": "a", "name": "b", "exitCode": 3, "message": "gone"}], [])
    assert render_json_doc(document) == json.dumps(to_json(document), indent=2) + "\n"
    assert json.loads(render_json_doc(document))["items"] == [to_json(r) for r in reports]

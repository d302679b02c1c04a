"""Many pods: the summary table for people and JUnit XML for CI servers, read by a real JUnit parser.

The columns and test cases come from the check registry, so these tests read it too.
"""

from __future__ import annotations

import dataclasses
import json

import junitparser
import pytest

from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.checks.report import build_report
from kubectl_podnet.cli.output import Format, emit, emit_many, renderer
from kubectl_podnet.errors import AgentError, ClusterError, ExitStatus
from kubectl_podnet.model import PodInfo, PodNetReport
from kubectl_podnet.outcome import PodOutcome, Skipped, verdicts_only
from kubectl_podnet.render.junit import render_junit
from kubectl_podnet.render.summary import render_summary
from tests.factories import LO, UID, healthy


def _pod(namespace: str, name: str, node: str = "node-1") -> PodInfo:
    return PodInfo(uid=UID, namespace=namespace, name=name, node=node, host_network=False, pod_ips=["10.244.1.5"])


def _outcomes() -> list[PodOutcome]:
    web = build_report(healthy(pod=_pod("shop", "web")))
    no_veth = build_report(healthy(pod=_pod("shop", "cart", "node-2"), interfaces=[LO]))
    return [
        PodOutcome("shop", "web", web, "node-1"),
        PodOutcome("shop", "cart", no_veth, "node-2"),
        PodOutcome("kube-system", "dns", AgentError("the podnet agent is not ready on node-3"), "node-3"),
        PodOutcome("batch", "job-x", Skipped("Succeeded", "finished: its network namespace is gone"), "node-1"),
    ]


def test_the_summary_has_a_column_per_registered_check_and_a_row_per_pod() -> None:
    lines = render_summary(_outcomes()).splitlines()
    header, rows = lines[0], lines[1:5]
    assert header.split() == ["POD", "NODE", *CHECK_IDS, "VERDICT"]
    starts = [header.index(word) for word in ["NODE", *CHECK_IDS, "VERDICT"]]
    for row in rows:  # every cell starts under its column's title
        assert all(row[start - 2 : start] == "  " and row[start] != " " for start in starts), row
    assert rows[0].split() == ["shop/web", "node-1", *["PASS"] * len(CHECK_IDS), "PASS"]
    cart = dict(zip(["POD", "NODE", *CHECK_IDS, "VERDICT"], rows[1].split()))
    assert cart["shared-ip"] == "FAIL" and cart["VERDICT"] == "FAIL"
    assert rows[2].split() == ["kube-system/dns", "node-3", *["-"] * len(CHECK_IDS), "ERROR"]
    assert rows[3].split() == ["batch/job-x", "node-1", *["-"] * len(CHECK_IDS), "SKIPPED", "(Succeeded)"]


def test_the_summary_says_what_to_act_on_below_the_table() -> None:
    text = render_summary(_outcomes())
    details = text.split("\n\n")[1].splitlines()
    assert "kube-system/dns: error: the podnet agent is not ready on node-3" in details
    assert any(line.startswith("shop/cart: single-veth FAIL: ") and "(fix: " in line for line in details)
    assert not any(line.startswith(("shop/web", "batch/job-x")) for line in details)
    assert text.endswith("4 pods: 1 passed, 1 failed a check, 1 could not be inspected, 1 skipped\n")


def test_a_list_exits_with_its_worst_outcome_and_skipped_pods_never_fail_it(capsys: pytest.CaptureFixture[str]) -> None:
    passed_and_skipped = [_outcomes()[0], _outcomes()[3]]
    assert emit_many(passed_and_skipped, Format.text) is ExitStatus.OK
    assert emit_many(_outcomes()[:2], Format.text) is ExitStatus.CHECK_FAILED
    assert emit_many(_outcomes(), Format.junit) is ExitStatus.CLUSTER
    capsys.readouterr()


def _parse(xml: str) -> junitparser.JUnitXml:
    parsed = junitparser.JUnitXml.fromstring(xml)
    assert isinstance(parsed, junitparser.JUnitXml)  # <testsuites>, not a bare <testsuite>
    return parsed


def test_junit_has_a_suite_per_namespace_and_a_case_per_pod_and_check() -> None:
    parsed = _parse(render_junit(_outcomes()))
    suites = {suite.name: suite for suite in parsed}
    assert list(suites) == ["shop", "kube-system", "batch"]
    cases = {(case.classname, case.name): case for suite in parsed for case in suite}
    expected = {(f"{ns}.{pod}", check) for ns, pod in [("shop", "web"), ("shop", "cart"), ("kube-system", "dns"),
                                                       ("batch", "job-x")] for check in CHECK_IDS}
    assert set(cases) == expected and len(cases) == 4 * len(CHECK_IDS)
    assert all(case.is_passed for check in CHECK_IDS for case in [cases[("shop.web", check)]])
    failure = cases[("shop.cart", "shared-ip")].result[0]
    assert isinstance(failure, junitparser.Failure)
    cart = build_report(healthy(pod=_pod("shop", "cart", "node-2"), interfaces=[LO]))
    shared_ip = next(c for c in cart.checks if c.id == "shared-ip")
    assert failure.message.startswith(shared_ip.summary)
    assert json.dumps(shared_ip.evidence, indent=2, sort_keys=True) in failure.text  # the evidence, to redo by hand
    for check in CHECK_IDS:
        (error,) = cases[("kube-system.dns", check)].result
        assert isinstance(error, junitparser.Error) and "not ready on node-3" in error.message
        (skipped,) = cases[("batch.job-x", check)].result
        assert isinstance(skipped, junitparser.Skipped) and skipped.message.startswith("pod Succeeded: ")


def test_junit_counts_agree_with_its_cases() -> None:
    parsed = _parse(render_junit(_outcomes()))
    for suite in parsed:
        results = [type(r) for case in suite for r in case.result]
        assert suite.tests == len(list(suite))
        assert suite.failures == results.count(junitparser.Failure)
        assert suite.errors == results.count(junitparser.Error)
        assert suite.skipped == results.count(junitparser.Skipped)
    assert parsed.tests == 4 * len(CHECK_IDS) and parsed.errors == len(CHECK_IDS)  # the root's own counts


def test_a_warning_passes_in_junit_with_its_summary_in_system_out() -> None:
    report = build_report(healthy(pod=_pod("shop", "web")))
    checks = [dataclasses.replace(c, status="warn", summary="listener on the pod IP only") if c.id == "localhost"
              else c for c in report.checks]
    warned = dataclasses.replace(report, checks=checks)
    (suite,) = _parse(render_junit([PodOutcome("shop", "web", warned)]))
    case = next(case for case in suite if case.name == "localhost")
    assert case.is_passed and "warning: listener on the pod IP only" in (case.system_out or "")


def test_junit_survives_control_characters_in_the_evidence() -> None:
    report = build_report(healthy(pod=_pod("shop", "web"), interfaces=[LO]))
    checks = [dataclasses.replace(c, summary="bad \x00\x1b[31m name", evidence={"cmd": "a\x07b"})
              if c.status == "fail" else c for c in report.checks]
    xml = render_junit([PodOutcome("shop", "web", dataclasses.replace(report, checks=checks))])
    (suite,) = _parse(xml)
    assert suite.failures >= 1


def test_a_single_report_in_junit_is_a_one_pod_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert emit(build_report(healthy()), Format.junit) is ExitStatus.OK
    (suite,) = _parse(capsys.readouterr().out)
    assert suite.name == "default" and [case.name for case in suite] == list(CHECK_IDS)
    assert {case.classname for case in suite} == {"default.web"}


@pytest.mark.parametrize("output", [Format.json, Format.yaml])
def test_structured_lists_carry_the_skipped_pods(output: Format) -> None:
    import yaml

    listing = yaml.safe_load(renderer(output).many(_outcomes(), 100))
    assert listing["skipped"] == [{"namespace": "batch", "name": "job-x", "phase": "Succeeded",
                                   "reason": "finished: its network namespace is gone"}]
    assert [(e["name"], e["exitCode"]) for e in listing["errors"]] == [("dns", 3)]
    assert len(listing["items"]) == 2


def test_an_error_that_is_not_the_agents_still_errors_every_check() -> None:
    xml = render_junit([PodOutcome("shop", "gone", ClusterError("pod shop/gone: not found"))])
    (suite,) = _parse(xml)
    assert suite.errors == len(CHECK_IDS) and all(case.result[0].type == "ClusterError" for case in suite)


def test_a_skipped_pod_that_runs_says_why_instead_of_its_phase() -> None:
    agent = PodOutcome("podnet-system", "podnet-agent-x1", Skipped("Running", "the podnet agent itself"), "node-1")
    assert render_summary([agent]).splitlines()[1].endswith("SKIPPED (the podnet agent itself)")


def test_the_table_and_junit_need_only_the_verdicts() -> None:
    """What a sweep keeps for them (verdicts_only) renders exactly as the whole reports do."""
    whole = _outcomes()
    slim = [PodOutcome(o.namespace, o.name, verdicts_only(o.outcome), o.node) for o in whole]
    assert all(renderer(f).facts for f in Format if f not in (Format.text, Format.junit))
    for output in (Format.text, Format.junit):
        assert not renderer(output).facts
        assert renderer(output).many(slim, 100) == renderer(output).many(whole, 100)
    report = slim[0].outcome
    assert isinstance(report, PodNetReport) and report.interfaces == [] and report.checks

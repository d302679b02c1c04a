"""The report is the contract: JSON and YAML round trips, keys, and unknown-key tolerance."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubectl_podnet.checks.registry import CHECKS
from kubectl_podnet.checks.report import build_report
from kubectl_podnet.model import InspectRequest, NodeFacts, PodNetReport
from kubectl_podnet.render.structured import render_json_doc, render_yaml_doc
from kubectl_podnet.serde import from_json, to_json
from tests.factories import healthy

ROOT = Path(__file__).resolve().parents[2]


def test_json_round_trip_gives_the_same_report() -> None:
    report = build_report(healthy())
    assert from_json(PodNetReport, json.loads(render_json_doc(to_json(report)))) == report


def test_yaml_round_trip_gives_the_same_report() -> None:
    report = build_report(healthy())
    assert from_json(PodNetReport, yaml.safe_load(render_yaml_doc(to_json(report)))) == report


def test_top_level_keys_are_the_documented_schema() -> None:
    data = to_json(build_report(healthy()))
    assert data["apiVersion"] == "podnet/v1" and data["kind"] == "PodNetReport"
    assert list(data) == [
        "apiVersion", "kind", "generator", "pod", "sandbox", "nodeNetnsInode", "containers", "expectedContainers",
        "interfaces", "routes", "listeners", "probes", "notes", "podIpProbes", "nodeRoutes", "uplink", "overlays",
        "cni", "checks", "verdict",
    ]
    documented = re.findall(r"^\| `(\w+)` \|", (ROOT / "docs" / "report.md").read_text(), re.MULTILINE)
    assert set(data) <= set(documented), set(data) - set(documented)
    assert data["pod"]["hostNetwork"] is False and data["interfaces"][1]["peer"]["master"] == "cni0"


def test_every_fact_the_node_gathered_reaches_the_report() -> None:
    facts = healthy()
    report = build_report(facts)
    for field in dataclasses.fields(NodeFacts):
        assert getattr(report, field.name) == getattr(facts, field.name), field.name
    assert to_json(report)["expectedContainers"] == [
        {"id": ref.id, "name": ref.name, "role": ref.role, "status": None} for ref in facts.expected_containers
    ]


def test_every_registered_check_is_documented() -> None:
    text = (ROOT / "docs" / "report.md").read_text()
    for check in CHECKS:
        assert f"| `{check.id}` |" in text, check.id


def test_unknown_keys_from_a_newer_agent_are_ignored() -> None:
    data = to_json(build_report(healthy()))
    data["somethingNew"] = {"x": 1}
    data["pod"]["futureField"] = True
    assert from_json(PodNetReport, data).pod.name == "web"


def test_a_missing_required_field_is_a_clear_error() -> None:
    data = to_json(build_report(healthy()))
    del data["verdict"]
    with pytest.raises(ValueError, match="missing field 'verdict'"):
        from_json(PodNetReport, data)


def test_wrong_type_is_named_with_its_path() -> None:
    with pytest.raises(ValueError, match=r"InspectRequest.containers: expected a list"):
        from_json(InspectRequest, {"podUid": "x", "containers": "nope"})


def _report_json() -> dict[str, Any]:
    return to_json(build_report(healthy()))  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("bend", "message"),
    [
        (lambda d: d["checks"][0].update(status="bogus"),
         r"PodNetReport.checks\[0\].status: expected one of 'pass', 'warn', 'fail', 'skip', got 'bogus'"),
        (lambda d: d["interfaces"][1]["addresses"][0].update(family=9),
         r"PodNetReport.interfaces\[1\].addresses\[0\].family: expected one of 4, 6, got 9"),
        (lambda d: d["routes"][0].update(family="4"), r"routes\[0\].family: expected one of 4, 6, got '4'"),
        (lambda d: d.update(verdict="maybe"), r"PodNetReport.verdict: expected one of 'pass', 'fail', got 'maybe'"),
        (lambda d: d["sandbox"].update(source="docker"), r"sandbox.source: expected one of 'pause-process'"),
        (lambda d: d["containers"][0].update(role="boss"), r"containers\[0\].role: expected one of 'app'"),
        (lambda d: d["listeners"][0].update(port=True), r"listeners\[0\].port: expected int, got bool"),
        (lambda d: d["sandbox"].update(pid="1"), r"sandbox.pid: expected int, got str"),
        (lambda d: d["checks"][0].update(evidence=[1]), r"checks\[0\].evidence: expected an object, got list"),
        (lambda d: d.update(nodeNetnsInode=None), r"nodeNetnsInode: expected int, got NoneType"),
    ],
)
def test_a_value_outside_its_declared_type_is_refused_with_its_path(bend: Any, message: str) -> None:
    data = _report_json()
    bend(data)
    with pytest.raises(ValueError, match=message):
        from_json(PodNetReport, data)


def test_literal_int_does_not_accept_a_bool_that_equals_it() -> None:
    from kubectl_podnet.model import Address

    assert from_json(Address, {"address": "::1", "prefixlen": 128, "family": 6, "scope": "host"}).family == 6
    with pytest.raises(ValueError, match="family: expected one of 4, 6, got True"):
        from_json(Address, {"address": "::1", "prefixlen": 128, "family": True, "scope": "host"})


def test_an_int_is_accepted_where_a_float_is_declared() -> None:
    request = from_json(InspectRequest, {"podUid": "x", "probeTimeout": 2})
    assert request.probe_timeout == 2.0 and isinstance(request.probe_timeout, float)


def test_the_path_facts_round_trip_through_json_and_yaml() -> None:
    from kubectl_podnet.model import AttachedNetwork, DeclaredPort, Listener, OverlayLink, Route

    facts = healthy()
    pod = dataclasses.replace(facts.pod, declared_ports=[DeclaredPort(53, "udp", "dns", "containerPort", "dns")],
                              networks=[AttachedNetwork("default/macvlan-conf", "net1", ["192.168.1.20"], "aa:bb", False)])
    report = build_report(dataclasses.replace(
        facts, pod=pod, routes=[Route("default", "169.254.1.1", "eth0", "global", 4, onlink=True)],
        listeners=facts.listeners + [Listener(4, "0.0.0.0", 53, 7, "dns", "udp")],
        overlays=[OverlayLink("flannel.1", "vxlan", 1450, 4, routes=["10.244.2.0/24"])],
    ))
    data = to_json(report)
    assert data["pod"]["declaredPorts"] == [{"port": 53, "protocol": "udp", "container": "dns",
                                             "source": "containerPort", "name": "dns"}]
    assert data["listeners"][-1]["protocol"] == "udp" and data["routes"][0]["onlink"] is True
    assert data["overlays"][0]["underlayFamily"] == 4 and data["uplink"]["mtu"] == 1500
    assert from_json(PodNetReport, json.loads(render_json_doc(to_json(report)))) == report
    assert from_json(PodNetReport, yaml.safe_load(render_yaml_doc(to_json(report)))) == report


def test_a_report_from_before_the_path_checks_still_parses() -> None:
    data = to_json(build_report(healthy()))
    for key in ("podIpProbes", "nodeRoutes", "uplink", "overlays"):
        del data[key]
    for listener in data["listeners"]:
        del listener["protocol"]
    old = from_json(PodNetReport, data)
    assert old.uplink is None and old.overlays == [] and old.listeners[0].protocol == "tcp"

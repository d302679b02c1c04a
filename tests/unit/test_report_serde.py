"""The report is the contract: JSON and YAML round trips, keys, and unknown-key tolerance."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from kubectl_podnet.checks import CHECKS
from kubectl_podnet.model import InspectRequest, NodeFacts, PodNetReport
from kubectl_podnet.render.structured import render_json, render_yaml
from kubectl_podnet.report import build_report
from kubectl_podnet.serde import from_json, to_json
from tests.factories import healthy

ROOT = Path(__file__).resolve().parents[2]


def test_json_round_trip_gives_the_same_report() -> None:
    report = build_report(healthy())
    assert from_json(PodNetReport, json.loads(render_json(report))) == report


def test_yaml_round_trip_gives_the_same_report() -> None:
    report = build_report(healthy())
    assert from_json(PodNetReport, yaml.safe_load(render_yaml(report))) == report


def test_top_level_keys_are_the_documented_schema() -> None:
    data = to_json(build_report(healthy()))
    assert data["apiVersion"] == "podnet/v1" and data["kind"] == "PodNetReport"
    assert list(data) == [
        "apiVersion", "kind", "generator", "pod", "sandbox", "nodeNetnsInode", "containers", "expectedContainers",
        "interfaces", "routes", "listeners", "probes", "notes", "podIpProbes", "nodeRoutes", "uplink", "overlays",
        "checks", "verdict",
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
        {"id": ref.id, "name": ref.name, "role": ref.role} for ref in facts.expected_containers
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

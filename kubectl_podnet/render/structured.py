"""The report for machines: JSON or YAML of the versioned schema (docs/report.md)."""

from __future__ import annotations

import json
from typing import Any

from kubectl_podnet.model import API_VERSION, PodNetReport
from kubectl_podnet.serde import to_json


def render_json(report: PodNetReport) -> str:
    return render_json_doc(to_json(report))


def render_yaml(report: PodNetReport) -> str:
    return render_yaml_doc(to_json(report))


def report_list(reports: list[PodNetReport], errors: list[dict[str, Any]], skipped: list[dict[str, Any]]
                ) -> dict[str, Any]:
    """Several pods: `PodNetReportList`, the reports, the pods that could not be inspected and
    the pods a sweep skipped (not running, terminating, the agent itself)."""
    return {"apiVersion": API_VERSION, "kind": "PodNetReportList", "items": [to_json(r) for r in reports],
            "errors": errors, "skipped": skipped}


def render_json_doc(document: Any) -> str:
    return json.dumps(document, indent=2) + "\n"


def render_yaml_doc(document: Any) -> str:
    import yaml  # lazily: only -o yaml pays for it

    return str(yaml.safe_dump(document, sort_keys=False, default_flow_style=False))

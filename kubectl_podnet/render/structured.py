"""The report for machines: JSON or YAML of the versioned schema (docs/report.md)."""

from __future__ import annotations

import io
import json
from typing import Any

from kubectl_podnet.model import API_VERSION, PodNetReport
from kubectl_podnet.serde import to_json


def report_list(reports: list[PodNetReport], errors: list[dict[str, Any]], skipped: list[dict[str, Any]]
                ) -> dict[str, Any]:
    """Several pods: `PodNetReportList`, the reports, the pods that could not be inspected and
    the pods a sweep skipped (not running, terminating, the agent itself)."""
    # the reports stay dataclasses here: the dumpers convert each as they reach it
    return {"apiVersion": API_VERSION, "kind": "PodNetReportList", "items": reports, "errors": errors,
            "skipped": skipped}


def render_json_doc(document: Any) -> str:
    """JSON of `document`; a report in it becomes its dict only when the encoder reaches it and
    is dropped after, so a list of 30,000 reports never exists as one tree of dicts."""
    text = io.StringIO()  # chunk by chunk: json.dumps would hold every small chunk in a list first
    for chunk in json.JSONEncoder(indent=2, default=to_json).iterencode(document):
        text.write(chunk)
    text.write("\n")
    return text.getvalue()


def render_yaml_doc(document: Any) -> str:
    import yaml  # lazily: only -o yaml pays for it

    return str(yaml.safe_dump(to_json(document), sort_keys=False, default_flow_style=False))

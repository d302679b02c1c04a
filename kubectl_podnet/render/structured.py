"""The report for machines: JSON or YAML of the versioned schema (docs/report.md)."""

from __future__ import annotations

import json

from kubectl_podnet.model import PodNetReport
from kubectl_podnet.serde import to_json


def render_json(report: PodNetReport) -> str:
    return json.dumps(to_json(report), indent=2) + "\n"


def render_yaml(report: PodNetReport) -> str:
    import yaml  # lazily: only -o yaml pays for it

    return str(yaml.safe_dump(to_json(report), sort_keys=False, default_flow_style=False))

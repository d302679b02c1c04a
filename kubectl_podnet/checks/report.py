"""Report assembly: the node's facts and the checks' verdicts become one `PodNetReport`.

The facts travel whole (`PodNetReport` extends `NodeFacts`): every fact field is handed
over by the dataclass's own field list, never retyped here, so nothing the node gathered
is lost on the way to the JSON.
"""

from __future__ import annotations

import dataclasses

from kubectl_podnet import __version__
from kubectl_podnet.checks.registry import run_checks
from kubectl_podnet.model import API_VERSION, REPORT_KIND, Generator, NodeFacts, PodNetReport


def build_report(facts: NodeFacts) -> PodNetReport:
    checks = run_checks(facts)
    carried = {f.name: getattr(facts, f.name) for f in dataclasses.fields(NodeFacts)}
    return PodNetReport(
        api_version=API_VERSION,
        kind=REPORT_KIND,
        generator=Generator(tool="kubectl-podnet", version=__version__),
        **carried,
        checks=checks,
        verdict="fail" if any(c.status == "fail" for c in checks) else "pass",
    )

"""The one registry of the pod checks: their ids, their order in every report, and run_checks.

Each family module declares its own checks (`CHECKS`: id, what a pass proves, the judge,
the commands that redo it by hand); this list only orders the families. The report,
renderers, tests, docs and the e2e suite read it, never a literal list or count.
"""

from __future__ import annotations

from kubectl_podnet.checks import path, reach, sandbox
from kubectl_podnet.checks.verdict import Check
from kubectl_podnet.model import CheckResult, NodeFacts

CHECKS: tuple[Check, ...] = sandbox.CHECKS + reach.CHECKS + path.CHECKS
CHECK_IDS = tuple(check.id for check in CHECKS)


def run_checks(facts: NodeFacts) -> list[CheckResult]:
    results = []
    for check in CHECKS:
        verdict = check.judge(facts)
        results.append(CheckResult(check.id, verdict.status, verdict.summary, verdict.evidence, verdict.fix))
    return results

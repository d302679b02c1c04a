"""What became of one pod asked about: its report, its error, or a reason it was skipped.

Shared by the cluster side (which produces outcomes), the renderers and the CLI (which
turn them into text, documents and the exit status), so none of them imports another.
A pod is skipped, never failed, when a sweep finds it with no network to prove: not
running yet or any more (Pending, Succeeded, Failed), terminating, or the podnet agent
itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Union

from kubectl_podnet.errors import ExitStatus, PodnetError
from kubectl_podnet.model import PodNetReport


@dataclass(frozen=True)
class Skipped:
    phase: str  # the pod's status.phase, as the API says it ("Pending", "Succeeded", ...)
    reason: str  # why it was not inspected, in one phrase


Outcome = Union[PodNetReport, PodnetError, Skipped]


@dataclass(frozen=True)
class PodOutcome:
    namespace: str
    name: str
    outcome: Outcome
    node: str | None = None


def verdicts_only(outcome: Outcome) -> Outcome:
    """A report without the facts the checks were judged on (the pod, its sandbox and the
    checks with their evidence stay): what a table or JUnit needs. A sweep of 30,000 pods
    that keeps only this holds about half the memory."""
    if not isinstance(outcome, PodNetReport):
        return outcome
    return dataclasses.replace(outcome, containers=[], expected_containers=[], interfaces=[], routes=[],
                               listeners=[], probes=[], notes=[])


def exit_status(outcome: Outcome) -> ExitStatus:
    if isinstance(outcome, PodnetError):
        return outcome.exit_status
    if isinstance(outcome, Skipped):
        return ExitStatus.OK
    return ExitStatus.of_verdict(outcome.verdict)


def worst(outcomes: list[PodOutcome]) -> ExitStatus:
    return max((exit_status(item.outcome) for item in outcomes), default=ExitStatus.OK)


def verdict_word(outcome: Outcome) -> str:
    """One word for a pod: PASS, WARN (passed with warnings), FAIL, ERROR or SKIPPED."""
    if isinstance(outcome, PodnetError):
        return "ERROR"
    if isinstance(outcome, Skipped):
        return "SKIPPED"
    if outcome.verdict == "fail":
        return "FAIL"
    return "WARN" if any(check.status == "warn" for check in outcome.checks) else "PASS"

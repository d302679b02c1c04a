"""Many pods for people: one row per pod, a column per check, the worst verdict, then why.

The columns come from the check registry (`checks.CHECKS`), so a new check gets its
column the day it is registered. Below the table, one line per thing to act on: a failed
or warning check (its summary and fix) and a pod that could not be inspected (its error).
Skipped pods carry their phase (or, running, why) in the verdict column. Plain text, no colour, no terminal
probing: byte-stable and tested as exact strings.
"""

from __future__ import annotations

from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.errors import PodnetError
from kubectl_podnet.model import PodNetReport
from kubectl_podnet.outcome import PodOutcome, Skipped, verdict_word

_STATUS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def _node(item: PodOutcome) -> str:
    if isinstance(item.outcome, PodNetReport) and item.outcome.pod.node:
        return item.outcome.pod.node
    return item.node or "-"


def _row(item: PodOutcome) -> list[str]:
    outcome = item.outcome
    cells = [f"{item.namespace}/{item.name}", _node(item)]
    if isinstance(outcome, PodNetReport):
        found = {check.id: _STATUS[check.status] for check in outcome.checks}
        cells += [found.get(check_id, "-") for check_id in CHECK_IDS]
    else:
        cells += ["-"] * len(CHECK_IDS)
    word = verdict_word(outcome)
    if isinstance(outcome, Skipped):  # a phase says it for a pod not running; a running one needs the reason
        word += f" ({outcome.phase if outcome.phase != 'Running' else outcome.reason})"
    cells.append(word)
    return cells


def _details(item: PodOutcome) -> list[str]:
    where, outcome = f"{item.namespace}/{item.name}", item.outcome
    if isinstance(outcome, PodnetError):
        return [f"{where}: error: {outcome.one_line()}"]
    if isinstance(outcome, Skipped):
        return []
    lines = []
    for check in outcome.checks:
        if check.status in ("fail", "warn"):
            fix = f" (fix: {check.fix})" if check.fix else ""
            lines.append(f"{where}: {check.id} {_STATUS[check.status]}: {check.summary}{fix}")
    return lines


def counts_line(outcomes: list[PodOutcome]) -> str:
    words = [verdict_word(item.outcome) for item in outcomes]
    passed = words.count("PASS") + words.count("WARN")
    return (f"{len(outcomes)} pods: {passed} passed, {words.count('FAIL')} failed a check, "
            f"{words.count('ERROR')} could not be inspected, {words.count('SKIPPED')} skipped\n")


def render_summary(outcomes: list[PodOutcome]) -> str:
    header = ["POD", "NODE", *CHECK_IDS, "VERDICT"]
    rows = [header] + [_row(item) for item in outcomes]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1] for row in rows]
    details = [line for item in outcomes for line in _details(item)]
    if details:
        lines += [""] + details
    return "\n".join(lines) + "\n\n" + counts_line(outcomes)

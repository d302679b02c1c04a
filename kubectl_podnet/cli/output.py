"""Print a report in the chosen format and turn its verdict into the exit status."""

from __future__ import annotations

import enum
import shutil
import sys

from typing import TYPE_CHECKING

from kubectl_podnet.errors import ExitStatus, PodnetError, UsageError
from kubectl_podnet.model import PodNetReport

if TYPE_CHECKING:
    from kubectl_podnet.cluster.inspect import PodOutcome


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    yaml = "yaml"


def terminal_width() -> int:
    return max(60, min(140, shutil.get_terminal_size((100, 24)).columns))


def emit(report: PodNetReport, output: Format, show_commands: bool = False) -> ExitStatus:
    from kubectl_podnet.render import structured, text

    if output is Format.json:
        sys.stdout.write(structured.render_json(report))
    elif output is Format.yaml:
        sys.stdout.write(structured.render_yaml(report))
    else:
        sys.stdout.write(text.render_text(report, terminal_width()))
    if show_commands:
        from kubectl_podnet.render.commands import manual_commands

        stream = sys.stdout if output is Format.text else sys.stderr
        stream.write("\nBy hand:\n" + "".join(f"  {line}\n" for line in manual_commands(report)))
    return ExitStatus.CHECK_FAILED if report.verdict == "fail" else ExitStatus.OK


def emit_many(outcomes: list[PodOutcome], output: Format, show_commands: bool = False) -> ExitStatus:
    """Several pods: each report (or its error), a summary, the worst exit status."""
    from kubectl_podnet.render import structured, text

    statuses: list[ExitStatus] = []
    for item in outcomes:
        if isinstance(item.outcome, PodnetError):
            statuses.append(item.outcome.exit_status)
        else:
            statuses.append(ExitStatus.CHECK_FAILED if item.outcome.verdict == "fail" else ExitStatus.OK)
    if output is Format.text:
        width = terminal_width()
        for item in outcomes:
            if isinstance(item.outcome, PodnetError):
                sys.stdout.write(f"Pod {item.namespace}/{item.name}: error: {item.outcome.one_line()}\n\n")
            else:
                sys.stdout.write(text.render_text(item.outcome, width) + "\n")
        passed = statuses.count(ExitStatus.OK)
        failed = statuses.count(ExitStatus.CHECK_FAILED)
        sys.stdout.write(f"{len(outcomes)} pods: {passed} passed, {failed} failed a check, "
                         f"{len(outcomes) - passed - failed} could not be inspected\n")
    else:
        listing = structured.report_list(
            [item.outcome for item in outcomes if not isinstance(item.outcome, PodnetError)],
            [{"namespace": item.namespace, "name": item.name, "exitCode": int(item.outcome.exit_status),
              "message": item.outcome.one_line()} for item in outcomes if isinstance(item.outcome, PodnetError)],
        )
        sys.stdout.write(structured.render_json_doc(listing) if output is Format.json
                         else structured.render_yaml_doc(listing))
    if show_commands:
        from kubectl_podnet.render.commands import manual_commands

        for item in outcomes:
            if not isinstance(item.outcome, PodnetError):
                sys.stderr.write(f"\nBy hand, {item.namespace}/{item.name}:\n"
                                 + "".join(f"  {line}\n" for line in manual_commands(item.outcome)))
    return max(statuses, default=ExitStatus.OK)


def parse_container(value: str) -> tuple[str | None, str]:
    """NAME=ID or ID, with an optional runtime scheme (containerd://ID)."""
    name, sep, cid = value.rpartition("=")
    cid = cid.split("://", 1)[-1]
    if sep and not name:
        raise UsageError(f"--container {value!r}: expected NAME=ID")
    return (name or None), cid

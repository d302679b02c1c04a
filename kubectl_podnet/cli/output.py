"""Print a report in the chosen format and turn its verdict into the exit status."""

from __future__ import annotations

import enum
import shutil
import sys

from kubectl_podnet.errors import ExitStatus, UsageError
from kubectl_podnet.model import PodNetReport


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


def parse_container(value: str) -> tuple[str | None, str]:
    """NAME=ID or ID, with an optional runtime scheme (containerd://ID)."""
    name, sep, cid = value.rpartition("=")
    cid = cid.split("://", 1)[-1]
    if sep and not name:
        raise UsageError(f"--container {value!r}: expected NAME=ID")
    return (name or None), cid

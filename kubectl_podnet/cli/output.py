"""Print a report in the chosen format and turn its verdict into the exit status."""

from __future__ import annotations

import enum
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

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


@dataclass(frozen=True)
class Renderer:
    one: Callable[[PodNetReport, int], str]  # a report, at a terminal width
    many: Callable[[list[PodOutcome], int], str]  # several pods' outcomes
    for_people: bool  # progress and --show-commands go to stdout beside it, else to stderr


def _exit_status(outcome: PodNetReport | PodnetError) -> ExitStatus:
    if isinstance(outcome, PodnetError):
        return outcome.exit_status
    return ExitStatus.CHECK_FAILED if outcome.verdict == "fail" else ExitStatus.OK


def _text_list(outcomes: list[PodOutcome], width: int) -> str:
    from kubectl_podnet.render.text import render_text

    parts = []
    for item in outcomes:
        if isinstance(item.outcome, PodnetError):
            parts.append(f"Pod {item.namespace}/{item.name}: error: {item.outcome.one_line()}\n\n")
        else:
            parts.append(render_text(item.outcome, width) + "\n")
    statuses = [_exit_status(item.outcome) for item in outcomes]
    passed, failed = statuses.count(ExitStatus.OK), statuses.count(ExitStatus.CHECK_FAILED)
    parts.append(f"{len(outcomes)} pods: {passed} passed, {failed} failed a check, "
                 f"{len(outcomes) - passed - failed} could not be inspected\n")
    return "".join(parts)


def _document(outcomes: list[PodOutcome]) -> dict[str, Any]:
    from kubectl_podnet.render.structured import report_list

    return report_list(
        [item.outcome for item in outcomes if not isinstance(item.outcome, PodnetError)],
        [{"namespace": item.namespace, "name": item.name, "exitCode": int(item.outcome.exit_status),
          "message": item.outcome.one_line()} for item in outcomes if isinstance(item.outcome, PodnetError)],
    )


def _structured(dump: Callable[[Any], str]) -> Renderer:
    from kubectl_podnet.serde import to_json

    return Renderer(one=lambda report, _: dump(to_json(report)), many=lambda outcomes, _: dump(_document(outcomes)),
                    for_people=False)


def _renderers() -> dict[Format, Renderer]:
    """The one table of output formats: every Format has exactly one entry (a test holds it)."""
    from kubectl_podnet.render import structured, text

    return {
        Format.text: Renderer(one=text.render_text, many=_text_list, for_people=True),
        Format.json: _structured(structured.render_json_doc),
        Format.yaml: _structured(structured.render_yaml_doc),
    }


def renderer(output: Format) -> Renderer:
    return _renderers()[output]


def _show_commands(reports: list[tuple[str, PodNetReport]], stream: TextIO) -> None:
    from kubectl_podnet.render.commands import manual_commands

    for title, report in reports:
        stream.write(f"\n{title}\n" + "".join(f"  {line}\n" for line in manual_commands(report)))


def emit(report: PodNetReport, output: Format, show_commands: bool = False) -> ExitStatus:
    """One pod's report in the chosen format; its verdict becomes the exit status."""
    chosen = renderer(output)
    sys.stdout.write(chosen.one(report, terminal_width()))
    if show_commands:
        _show_commands([("By hand:", report)], sys.stdout if chosen.for_people else sys.stderr)
    return _exit_status(report)


def emit_many(outcomes: list[PodOutcome], output: Format, show_commands: bool = False) -> ExitStatus:
    """Several pods: each report (or its error), a summary, the worst exit status."""
    sys.stdout.write(renderer(output).many(outcomes, terminal_width()))
    if show_commands:
        _show_commands([(f"By hand, {item.namespace}/{item.name}:", item.outcome) for item in outcomes
                        if not isinstance(item.outcome, PodnetError)], sys.stderr)
    return max((_exit_status(item.outcome) for item in outcomes), default=ExitStatus.OK)


def parse_container(value: str) -> tuple[str | None, str]:
    """NAME=ID or ID, with an optional runtime scheme (containerd://ID)."""
    name, sep, cid = value.rpartition("=")
    cid = cid.split("://", 1)[-1]
    if sep and not name:
        raise UsageError(f"--container {value!r}: expected NAME=ID")
    return (name or None), cid

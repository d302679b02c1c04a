"""Print a report in the chosen format and turn its verdict into the exit status."""

from __future__ import annotations

import enum
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from kubectl_podnet.errors import ExitStatus, PodnetError, UsageError
from kubectl_podnet.model import PodNetReport
from kubectl_podnet.outcome import PodOutcome, Skipped, exit_status, worst


class Format(str, enum.Enum):
    text = "text"
    json = "json"
    yaml = "yaml"
    junit = "junit"


def terminal_width() -> int:
    return max(60, min(140, shutil.get_terminal_size((100, 24)).columns))


@dataclass(frozen=True)
class Renderer:
    one: Callable[[PodNetReport, int], str]  # a report, at a terminal width
    many: Callable[[list[PodOutcome], int], str]  # several pods' outcomes
    for_people: bool  # progress and --show-commands go to stdout beside it, else to stderr
    facts: bool = True  # prints the facts, not only the verdicts (else a sweep keeps only verdicts_only)


def _document(outcomes: list[PodOutcome]) -> dict[str, Any]:
    from kubectl_podnet.render.structured import report_list

    return report_list(
        [item.outcome for item in outcomes if isinstance(item.outcome, PodNetReport)],
        [{"namespace": item.namespace, "name": item.name, "exitCode": int(item.outcome.exit_status),
          "message": item.outcome.one_line()} for item in outcomes if isinstance(item.outcome, PodnetError)],
        [{"namespace": item.namespace, "name": item.name, "phase": item.outcome.phase, "reason": item.outcome.reason}
         for item in outcomes if isinstance(item.outcome, Skipped)],
    )


def _structured(dump: Callable[[Any], str]) -> Renderer:
    from kubectl_podnet.serde import to_json

    return Renderer(one=lambda report, _: dump(to_json(report)), many=lambda outcomes, _: dump(_document(outcomes)),
                    for_people=False)


def _as_list(report: PodNetReport) -> list[PodOutcome]:
    """One report as a one-pod list, for the formats that only speak lists."""
    pod = report.pod
    return [PodOutcome(pod.namespace or "default", pod.name or pod.uid, report, pod.node)]


def _renderers() -> dict[Format, Renderer]:
    """The one table of output formats: every Format has exactly one entry (a test holds it)."""
    from kubectl_podnet.render import junit, structured, summary, text

    return {
        Format.text: Renderer(one=text.render_text, many=lambda outcomes, _: summary.render_summary(outcomes),
                              for_people=True, facts=False),
        Format.json: _structured(structured.render_json_doc),
        Format.yaml: _structured(structured.render_yaml_doc),
        Format.junit: Renderer(one=lambda report, _: junit.render_junit(_as_list(report)),
                               many=lambda outcomes, _: junit.render_junit(outcomes), for_people=False, facts=False),
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
    return exit_status(report)


def emit_many(outcomes: list[PodOutcome], output: Format, show_commands: bool = False) -> ExitStatus:
    """Several pods: a table (or a document) of every outcome; the worst exit status."""
    sys.stdout.write(renderer(output).many(outcomes, terminal_width()))
    if show_commands:
        _show_commands([(f"By hand, {item.namespace}/{item.name}:", item.outcome) for item in outcomes
                        if isinstance(item.outcome, PodNetReport)], sys.stderr)
    return worst(outcomes)


def parse_container(value: str) -> tuple[str | None, str]:
    """NAME=ID or ID, with an optional runtime scheme (containerd://ID)."""
    name, sep, cid = value.rpartition("=")
    cid = cid.split("://", 1)[-1]
    if sep and not name:
        raise UsageError(f"--container {value!r}: expected NAME=ID")
    return (name or None), cid

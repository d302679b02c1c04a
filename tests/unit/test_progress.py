"""The progress line: in place on a terminal, one line per change of news in a log."""

from __future__ import annotations

import io

from kubectl_podnet.cli.progress import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_change_not_per_second() -> None:
    log = io.StringIO()
    progress = ProgressLine(log)
    for second in range(5):
        progress(f"waiting for the podnet agent on n1: ContainerCreating ({second}s)")
    progress("waiting for the podnet agent on n1: ErrImagePull: not found (5s)")
    progress.done()
    assert log.getvalue() == (
        "waiting for the podnet agent on n1: ContainerCreating (0s)\n"
        "waiting for the podnet agent on n1: ErrImagePull: not found (5s)\n"
    )


def test_a_terminal_rewrites_one_line_and_ends_it() -> None:
    screen = Terminal()
    progress = ProgressLine(screen)
    progress("waiting (0s)")
    progress("waiting (1s)")
    progress.done()
    assert screen.getvalue() == "\r\x1b[2Kwaiting (0s)\r\x1b[2Kwaiting (1s)\n"


def test_quiet_says_nothing() -> None:
    log = io.StringIO()
    ProgressLine(log, quiet=True)("installing")
    assert log.getvalue() == ""

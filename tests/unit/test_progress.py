"""The progress line: in place on a terminal, one line per change of news in a log."""

from __future__ import annotations

import io

import pytest

from kubectl_podnet.cli.progress import ProgressLine, SweepBar


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


def test_a_sweep_shows_a_bar_on_a_terminal_and_news_above_it_once(capsys: pytest.CaptureFixture[str]) -> None:
    screen = Terminal()
    line = ProgressLine(screen)
    bar = SweepBar(line)
    bar(0, 40)
    line("waiting for the podnet agent on n1: ContainerCreating (0s)")
    line("waiting for the podnet agent on n1: ContainerCreating (1s)")
    bar(40, 40)
    bar.close()
    line.done()
    shown = screen.getvalue()
    assert "inspecting pods" in shown and "40/40" in shown
    assert shown.count("ContainerCreating") == 1  # above the bar, as in a log: once per change
    assert capsys.readouterr().out == ""  # never on stdout, where the report goes
    line("after the bar")
    assert screen.getvalue().endswith("\r\x1b[2Kafter the bar")


def test_no_bar_in_a_log_or_when_quiet() -> None:
    for stream, quiet in ((io.StringIO(), False), (Terminal(), True)):
        line = ProgressLine(stream, quiet=quiet)
        bar = SweepBar(line)
        bar(3, 40)
        bar.close()
        assert stream.getvalue() == ""

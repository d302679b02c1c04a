"""One progress line on stderr: rewritten in place on a terminal, one line per change in CI logs."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

_ELAPSED = re.compile(r"\s*\(\d+s\)$")


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.last = ""
        self.open = False
        self._lock = threading.Lock()  # nodes report from parallel threads
        self.above: Callable[[str], None] | None = None  # a progress bar shows: print above it

    def __call__(self, message: str) -> None:
        with self._lock:
            self._show(message)

    def _show(self, message: str) -> None:
        # a log gets a line when the news changes, not every second of the same wait
        key = message if self.tty and not self.above else _ELAPSED.sub("", message)
        if self.quiet or key == self.last:
            return
        self.last = key
        if self.above:
            self.above(message)
            return
        if self.tty:
            self.stream.write("\r\x1b[2K" + message)
            self.open = True
        else:
            self.stream.write(message + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


class SweepBar:
    """A progress bar on stderr while many pods are inspected, when stderr is a terminal.

    rich (installed with typer) is imported only when a bar is shown. While it shows, the
    progress line's messages print above it, once per change, as in a log.
    """

    def __init__(self, line: ProgressLine) -> None:
        self.line = line
        self.enabled = line.tty and not line.quiet
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 2:
            return
        with self.line._lock:
            if self._bar is None and not self._start(total):
                return
            self._bar.update(self._task, completed=done, total=total)

    def _start(self, total: int) -> bool:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        except ImportError:
            self.enabled = False
            return False
        if self.line.open:  # finish the in-place line first
            self.line.stream.write("\n")
            self.line.open = False
        console = Console(file=self.line.stream)
        self._bar = Progress(TextColumn("inspecting pods"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                             console=console, transient=True, redirect_stdout=False, redirect_stderr=False)
        self._task = self._bar.add_task("pods", total=total)
        self._bar.start()
        self.line.above = lambda message: console.print(message, markup=False, highlight=False)
        return True

    def close(self) -> None:
        with self.line._lock:
            if self._bar is not None:
                self._bar.stop()
                self._bar = None
                self.line.above = None

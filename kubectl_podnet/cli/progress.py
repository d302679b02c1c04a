"""One progress line on stderr: rewritten in place on a terminal, one line per change in CI logs."""

from __future__ import annotations

import re
import sys
import threading
from typing import TextIO

_ELAPSED = re.compile(r"\s*\(\d+s\)$")


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.last = ""
        self.open = False
        self._lock = threading.Lock()  # nodes report from parallel threads

    def __call__(self, message: str) -> None:
        with self._lock:
            self._show(message)

    def _show(self, message: str) -> None:
        # a log gets a line when the news changes, not every second of the same wait
        key = message if self.tty else _ELAPSED.sub("", message)
        if self.quiet or key == self.last:
            return
        self.last = key
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

"""One progress line on stderr: rewritten in place on a terminal, one line per change in CI logs."""

from __future__ import annotations

import sys
from typing import TextIO


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty()
        self.last = ""
        self.open = False

    def __call__(self, message: str) -> None:
        if self.quiet or message == self.last:
            return
        self.last = message
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

"""The one error a step of `up`, `build` or `down` raises, naming what failed.

Both tools print it as `TOOL: FAILED in COMPONENT: MESSAGE` and exit 1; when the component is
one of the tool's own daemons, the end of its log follows (`explain`). A client's failure
(kubectl, ctr, docker, kind) names the client; the message quotes its error.
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # pidfiles raises Failure: only the type goes this way
    from testbeds.common.pidfiles import Daemons


class Failure(Exception):
    def __init__(self, component: str, message: str):
        super().__init__(f"{component}: {message}")
        self.component = component
        self.message = message


def explain(tool: str, failure: Failure, daemons: Daemons, out: TextIO = sys.stderr) -> None:
    print(f"\n{tool}: FAILED in {failure.component}: {failure.message}", file=out)
    if daemons.log_path(failure.component).is_file():
        print(f"--- last lines of {daemons.log_path(failure.component)} ---\n{daemons.tail(failure.component)}",
              file=out)

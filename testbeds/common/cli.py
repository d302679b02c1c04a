"""What the two tools' command lines share: one command run with the exit-code table both keep.

0 ok, 1 a step failed (named, with the end of its daemon's log), 2 usage, 3 not running.
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from testbeds.common.failure import Failure, explain
from testbeds.common.pidfiles import Daemons

NOT_RUNNING = 3


def run_command(tool: str, daemons: Daemons, command: Callable[[], int | None]) -> int:
    """`command`'s own exit code (None: 0), or 1 with the failure explained."""
    try:
        code = command()
    except Failure as e:
        explain(tool, e, daemons)
        return 1
    return 0 if code is None else code


def show_kubeconfig(path: Path) -> int:
    """`kubeconfig`: print its path, or say that `up` has not made it yet."""
    if not path.exists():
        print(f"no kubeconfig at {path}: run `up` first", file=sys.stderr)
        return NOT_RUNNING
    print(path)
    return 0

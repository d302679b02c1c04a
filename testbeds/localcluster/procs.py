"""The local cluster's processes: its daemons by pidfile, and what else names our private paths.

The daemons (etcd, the control plane, containerd, the kubelet) are `tracked` by pidfile and
start time (testbeds.common.pidfiles); containerd's shims and anything else of ours are found
by an argument under our own roots, which only our processes name. Never by process name.
"""
from __future__ import annotations

import os
from pathlib import Path

from testbeds.common.pidfiles import Daemons
from testbeds.localcluster import settings as S

tracked = Daemons(pid_dir=S.RUN_ROOT / "pids", log_dir=S.log_dir())


def pids_with_arg(needle: str) -> list[int]:
    """Pids whose command line contains `needle` as one argument (an exact, path-like token of ours)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if needle.encode() in args:
            found.append(int(entry.name))
    return found


def pids_mentioning(prefixes: tuple[str, ...]) -> list[int]:
    """Pids with an argument under one of our private roots (only our own processes name them)."""
    found = []
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if any(a.startswith(p) for a in args for p in prefixes):
            found.append(int(entry.name))
    return found

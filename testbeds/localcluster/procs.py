"""Start, find and stop the cluster's own processes by pid, never by name.

Each daemon gets a pidfile holding "<pid> <starttime>": the start time (field
22 of /proc/<pid>/stat) tells a live process of ours from a recycled pid, so
`down` cannot signal anything it did not start.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from testbeds.localcluster import settings as S


def pid_dir() -> Path:
    return S.RUN_ROOT / "pids"


def start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


@dataclass(frozen=True)
class Daemon:
    name: str
    pid: int
    started: str

    def alive(self) -> bool:
        return start_time(self.pid) == self.started and not is_zombie(self.pid)


def log_path(name: str) -> Path:
    return S.log_dir() / f"{name}.log"


def read(name: str) -> Daemon | None:
    try:
        pid_s, started = (pid_dir() / f"{name}.pid").read_text().split()
    except (OSError, ValueError):
        return None
    return Daemon(name, int(pid_s), started)


def running(name: str) -> Daemon | None:
    d = read(name)
    return d if d is not None and d.alive() else None


def start(name: str, argv: list[str], env: dict[str, str] | None = None) -> Daemon:
    """Start `argv` in its own session, output appended to logs/<name>.log."""
    pid_dir().mkdir(parents=True, exist_ok=True)
    S.log_dir().mkdir(parents=True, exist_ok=True)
    log = open(log_path(name), "ab")
    log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} start: {' '.join(argv)}\n".encode())
    log.flush()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, env=env, close_fds=True)
    log.close()
    started = None
    for _ in range(50):
        started = start_time(proc.pid)
        if started:
            break
        time.sleep(0.01)
    d = Daemon(name, proc.pid, started or "0")
    (pid_dir() / f"{name}.pid").write_text(f"{d.pid} {d.started}\n")
    return d


def stop(name: str, timeout: float = 15.0) -> bool:
    """SIGTERM our process (if it is still ours), SIGKILL after `timeout`; True if one was stopped."""
    d = read(name)
    pidfile = pid_dir() / f"{name}.pid"
    if d is None or not d.alive():
        pidfile.unlink(missing_ok=True)
        return False
    os.kill(d.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and d.alive():
        time.sleep(0.1)
    if d.alive():
        os.kill(d.pid, signal.SIGKILL)
        while d.alive():
            time.sleep(0.05)
    pidfile.unlink(missing_ok=True)
    return True


def tail(name: str, lines: int = 25) -> str:
    try:
        text = log_path(name).read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


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

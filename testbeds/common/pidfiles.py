"""Daemons started, found and stopped by pid, never by name.

Each daemon gets a pidfile holding "<pid> <starttime>": the start time (field 22 of
/proc/<pid>/stat) tells a live process of ours from a recycled pid, so `down` cannot signal
anything it did not start. Each runs in its own session with its output appended to one
log per daemon. A tool has one `Daemons`: its pidfile directory and its log directory.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from testbeds.common.failure import Failure


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


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class Daemon:
    name: str
    pid: int
    started: str

    def alive(self) -> bool:
        return start_time(self.pid) == self.started and not is_zombie(self.pid)


@dataclass(frozen=True)
class Daemons:
    pid_dir: Path
    log_dir: Path

    def pidfile(self, name: str) -> Path:
        return self.pid_dir / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def read(self, name: str) -> Daemon | None:
        """What the pidfile says, alive or not (`status` tells a stale pidfile)."""
        try:
            pid_s, started = self.pidfile(name).read_text().split()
        except (OSError, ValueError):
            return None
        return Daemon(name, int(pid_s), started)

    def running(self, name: str) -> Daemon | None:
        d = self.read(name)
        return d if d is not None and d.alive() else None

    def start(self, name: str, argv: list[str]) -> Daemon:
        """`argv` in its own session, output appended to <log_dir>/<name>.log."""
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(name), "ab") as log:
            log.write(f"\n=== {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} start: {' '.join(argv)}\n".encode())
            log.flush()
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True, close_fds=True)
        started = None
        for _ in range(100):
            started = start_time(proc.pid)
            if started:
                break
            time.sleep(0.01)
        d = Daemon(name, proc.pid, started or "0")
        self.pidfile(name).write_text(f"{d.pid} {d.started}\n")
        return d

    def stop(self, name: str, timeout: float = 15.0) -> bool:
        """SIGTERM our process (if it is still ours), SIGKILL after `timeout`; True if one was stopped."""
        d = self.running(name)
        if d is None:
            self.pidfile(name).unlink(missing_ok=True)
            return False
        os.kill(d.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and d.alive():
            time.sleep(0.1)
        if d.alive():
            os.kill(d.pid, signal.SIGKILL)
            while d.alive():
                time.sleep(0.05)
        self.pidfile(name).unlink(missing_ok=True)
        return True

    def tail(self, name: str, lines: int = 25) -> str:
        try:
            text = self.log_path(name).read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def wait(self, name: str, what: str, probe: Callable[[], bool], timeout: float, interval: float = 0.5) -> None:
        """Poll `probe()` until true; fail, naming the daemon, if it died or time ran out."""
        deadline = time.monotonic() + timeout
        last_err = ""
        while time.monotonic() < deadline:
            try:
                if probe():
                    return
            except Exception as e:  # a probe that cannot connect yet is just "not yet"
                last_err = str(e)
            if self.running(name) is None:
                raise Failure(name, f"exited while waiting for {what}")
            time.sleep(interval)
        raise Failure(name, f"timed out after {timeout:.0f}s waiting for {what}" + (f" ({last_err})" if last_err else ""))

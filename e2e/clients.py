"""The two command-line tools the e2e tier drives: kubectl and kubectl-podnet, as processes.

Decision: the plugin is run exactly as a user runs it (the console script kubectl would
find on PATH), never imported, so the suite tests its argument parsing, its exit codes
and its one-line errors, not a Python API. Every plugin run is recorded so a failing
test can dump what the plugin printed (its JSON report included).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ERROR_PREFIX = "kubectl-podnet: error:"


@dataclass(frozen=True)
class Run:
    """One finished process: what was run, how it ended, what it printed."""

    argv: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)

    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("kubectl-podnet:")]

    def describe(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n"
            f"exit {self.code} after {self.seconds:.2f}s\n"
            f"--- stderr ---\n{self.stderr.rstrip()}\n--- stdout ---\n{self.stdout.rstrip()}\n"
        )


def _run(argv: list[str], input: str | None, timeout: float, env: dict[str, str] | None = None) -> Run:
    started = time.monotonic()
    try:
        done = subprocess.run(argv, input=input, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else exc.stderr or ""
        return Run(argv, -1, out, err + f"\n(killed after {timeout:.0f}s)", time.monotonic() - started)
    return Run(argv, done.returncode, done.stdout, done.stderr, time.monotonic() - started)


class CommandFailed(AssertionError):
    def __init__(self, run: Run) -> None:
        super().__init__(f"command failed:\n{run.describe()}")
        self.run = run


class Kubectl:
    """kubectl bound to one kubeconfig; `check=True` turns a non-zero exit into a test failure."""

    def __init__(self, binary: str, kubeconfig: str) -> None:
        self.binary = binary
        self.kubeconfig = kubeconfig

    def argv(self, *args: str) -> list[str]:
        return [self.binary, "--kubeconfig", self.kubeconfig, *args]

    def __call__(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> Run:
        run = _run(self.argv(*args), input, timeout)
        if check and run.code != 0:
            raise CommandFailed(run)
        return run

    def get(self, *args: str, check: bool = True) -> Any:
        run = self("get", *args, "-o", "json", check=check)
        return run.json() if run.code == 0 else None

    def apply(self, *objects: dict[str, Any], namespace: str) -> Run:
        """Apply objects; those without a namespace of their own go to `namespace`."""
        document = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
        return self("apply", "-n", namespace, "-f", "-", input=json.dumps(document))

    def wait_ready(self, namespace: str, *pods: str, timeout: float = 120) -> Run:
        names = [f"pod/{p}" for p in pods]
        return self("wait", "-n", namespace, "--for=condition=Ready", f"--timeout={timeout:.0f}s", *names,
                    timeout=timeout + 30)

    def names(self, *args: str) -> list[str]:
        """`kubectl get ARGS -o name`, sorted; empty when nothing matches."""
        run = self("get", *args, "-o", "name", "--ignore-not-found")
        return sorted(line for line in run.stdout.splitlines() if line.strip())

    def create_namespace(self, name: str, *labels: str, timeout: float = 60) -> None:
        """Create it and wait for its default ServiceAccount: pods are refused until the
        controller-manager has made it (seconds after a cluster starts)."""
        self("create", "namespace", name)
        if labels:
            self("label", "namespace", name, *labels)
        deadline = time.monotonic() + timeout
        while not self.names("serviceaccount", "default", "-n", name) and time.monotonic() < deadline:
            time.sleep(0.5)


def plugin_argv() -> list[str]:
    """The console script installed next to this Python (what kubectl runs), else `-m`."""
    script = Path(sys.executable).with_name("kubectl-podnet")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    found = shutil.which("kubectl-podnet")
    return [found] if found else [sys.executable, "-m", "kubectl_podnet"]


# the verbs that create agent pods take --agent-image; the others refuse it
_TAKES_IMAGE = {("inspect",), ("connect",), ("agent", "install"), ("node", "map")}


@dataclass
class Podnet:
    """kubectl-podnet bound to one kubeconfig and agent image; keeps every run for the dump."""

    kubeconfig: str
    agent_image: str | None = None
    argv0: list[str] = field(default_factory=plugin_argv)
    history: list[Run] = field(default_factory=list)

    def argv(self, *args: str) -> list[str]:
        extra = ["--kubeconfig", self.kubeconfig]
        verb = tuple(args[:1]) if args[:1] == ("inspect",) else tuple(args[:2])
        if self.agent_image and verb in _TAKES_IMAGE:
            extra += ["--agent-image", self.agent_image]
        return [*self.argv0, *args, *extra]

    def __call__(self, *args: str, timeout: float = 240) -> Run:
        run = _run(self.argv(*args), None, timeout, env=_plugin_env())
        self.history.append(run)
        return run

    def inspect(self, pod: str, namespace: str, *extra: str, timeout: float = 240) -> Run:
        return self("inspect", pod, "-n", namespace, "-o", "json", "--timeout", "120", *extra, timeout=timeout)

    def start(self, *args: str) -> "Running":
        """Start the plugin without waiting, to act on the cluster while it runs."""
        return Running(self, self.argv(*args))


def _plugin_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PODNET_DEBUG", None)  # the suite checks the one-line errors users see
    return env


class Running:
    """A plugin process in flight: its stderr lines arrive as they are printed."""

    def __init__(self, owner: Podnet, argv: list[str]) -> None:
        self.owner = owner
        self.argv = argv
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_plugin_env()
        )
        self.stderr_lines: list[str] = []
        self._stdout = ""
        self._seen = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_stderr, daemon=True),
            threading.Thread(target=self._read_stdout, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._seen:
                self.stderr_lines.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        self._stdout = self.process.stdout.read()

    def wait_for_line(self, needle: str, timeout: float) -> str | None:
        """The first stderr line containing `needle`, or None if the process ended or time ran out."""
        deadline = time.monotonic() + timeout
        with self._seen:
            while True:
                for line in self.stderr_lines:
                    if needle in line:
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._readers[0].is_alive()):
                    return None
                self._seen.wait(min(left, 0.2))

    def __enter__(self) -> "Running":
        return self

    def __exit__(self, *exc: object) -> None:
        # a test that failed half-way still records the run and leaves no process behind
        if self.process.returncode is None:
            self.finish(timeout=0 if exc[0] else 240)

    def finish(self, timeout: float = 240) -> Run:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            self.stderr_lines.append(f"(killed by the test after {time.monotonic() - self.started:.0f}s)")
        for reader in self._readers:
            reader.join(timeout=10)
        code = self.process.returncode
        run = Run(self.argv, code, self._stdout, "\n".join(self.stderr_lines) + "\n", time.monotonic() - self.started)
        self.owner.history.append(run)
        return run

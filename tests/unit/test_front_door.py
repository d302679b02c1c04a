"""The front door answers `version` and replays typer's help without loading typer.

Each run is a real `python -m kubectl_podnet` process (as the console script runs it), with
its own help cache, so what is checked is what a user's shell gets: the bytes, the exit
code, and whether typer was imported at all.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import kubectl_podnet
from kubectl_podnet.cli import front
from kubectl_podnet.cli.app import main as typer_main

# prints what the front door printed, then whether typer was loaded
_PROBE = (
    "import sys\n"
    "from kubectl_podnet.cli.front import main\n"
    "code = main(sys.argv[1:])\n"
    "sys.stdout.flush()\n"
    "sys.stderr.write(f'typer loaded: {\"typer\" in sys.modules}\\n')\n"
    "sys.exit(code)\n"
)


def _run(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "COLUMNS": "80"}
    return subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, timeout=60)


def _typer_rendering(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = typer_main(args)
    return code, capsys.readouterr().out


def test_version_is_answered_without_typer(tmp_path: Path) -> None:
    done = _run(tmp_path, "version")
    assert (done.returncode, done.stdout) == (0, f"kubectl-podnet {kubectl_podnet.__version__}\n")
    assert "typer loaded: False" in done.stderr


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["inspect", "-h"], ["agent", "install", "--help"]])
def test_help_is_typer_rendering_then_replayed_without_typer(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    expected = _typer_rendering(args, capsys)
    first, second = _run(tmp_path, *args), _run(tmp_path, *args)
    assert (first.returncode, first.stdout) == (second.returncode, second.stdout) == expected
    assert "typer loaded: True" in first.stderr and "typer loaded: False" in second.stderr


@pytest.mark.parametrize(
    "args",
    [["nosuch", "-h"], ["inspect", "web", "-h"], ["inspect", "-n", "-h"], ["-h", "inspect"], []],
)
def test_errors_pod_names_and_anything_else_always_go_through_typer(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    expected = _typer_rendering(args, capsys)
    for _ in range(2):
        done = _run(tmp_path, *args)
        assert (done.returncode, done.stdout) == expected
        assert "typer loaded: True" in done.stderr
    assert not list(tmp_path.rglob("help-*.txt"))


def test_a_changed_source_or_width_is_a_new_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    key = front._key(["inspect"])
    assert front._key(["agent"]) != key
    monkeypatch.setenv("COLUMNS", "120")
    assert front._key(["inspect"]) != key
    monkeypatch.setenv("COLUMNS", "80")
    source = Path(front.__file__).parent / "inspect_cmd.py"
    before = source.stat()
    try:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1))
        assert front._key(["inspect"]) != key
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert front._key(["inspect"]) == key

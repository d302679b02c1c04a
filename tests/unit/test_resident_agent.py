"""The resident agent: the real bootstrap and server, as local `python3 -I -S` processes.

What the agent pod does on each exec is done here for real (the bootstrap script, the
detached server it starts, its socket, lock and pidfile in a temp cache); only the exec
transport is left out. The request names a pod that is not on this machine, so every
answer is the agent's own NodeError envelope, exit 3: the same whoever answers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.agent_zip import build_payload
from kubectl_podnet.errors import ExitStatus
from kubectl_podnet.node.resident import LOCK, LOG, PIDFILE, SOCKET, recorded_server
from tests.fakes import stop_resident_agents

REQUEST = json.dumps({"podUid": "0a1b2c3d-0000-4000-8000-00000000abcd"})
DEADLINE = 20
OTHER_DIGEST = "f" * 64


def _boot(cache: Path, digest: str, mode: str = "run", stdin: bytes | None = None, request: str = REQUEST) -> tuple[int, dict[str, Any]]:
    argv = bootstrap.command(digest, mode, request, DEADLINE)
    done = subprocess.run(
        [sys.executable, "-I", "-S", *argv[1:]], input=stdin, capture_output=True, timeout=60,
        env={"PODNET_CACHE": str(cache), "PATH": "/usr/bin:/bin"}, check=False,
    )
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1, done
    return done.returncode, json.loads(lines[0])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The payload unpacked once, as the install exec leaves it (its server stopped)."""
    cache = tmp_path_factory.mktemp("installed")
    digest = build_payload().digest
    code, _ = _boot(cache, digest, "install", bootstrap.frame(build_payload().data))
    assert code == ExitStatus.CLUSTER
    stop_resident_agents(cache)
    for name in (SOCKET, PIDFILE, LOCK, LOG):
        (cache / digest / name).unlink(missing_ok=True)
    yield cache / digest


@pytest.fixture
def cache(installed: Path, tmp_path: Path) -> Path:
    shutil.copytree(installed, tmp_path / installed.name)
    return tmp_path


def _server(cache: Path, digest: str | None = None) -> int | None:
    return recorded_server(str(cache / (digest or build_payload().digest)))


def _without_served_by(envelope: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in envelope.items() if key != "servedBy"}


def test_the_first_run_is_inline_and_starts_a_server_that_answers_the_next_ones(cache: Path) -> None:
    digest = build_payload().digest
    inline_code, inline = _boot(cache, digest)
    server = _server(cache)
    assert "servedBy" not in inline and server is not None
    answers = [_boot(cache, digest) for _ in range(3)]
    for code, envelope in answers:
        assert code == inline_code == ExitStatus.CLUSTER == envelope["exitCode"]
        assert envelope["servedBy"] == {"resident": True, "pid": server}
        assert _without_served_by(envelope) == inline


def test_a_killed_server_costs_one_inline_run_and_is_replaced(cache: Path) -> None:
    digest = build_payload().digest
    _boot(cache, digest)
    first = _server(cache)
    assert first is not None
    os.kill(first, signal.SIGKILL)
    code, envelope = _boot(cache, digest)  # a stale socket, refused
    assert code == ExitStatus.CLUSTER and "servedBy" not in envelope
    second = _server(cache)
    assert second is not None and second != first
    code, envelope = _boot(cache, digest)
    assert code == ExitStatus.CLUSTER and envelope["servedBy"]["pid"] == second


def test_a_hung_server_is_killed_and_replaced_and_the_run_still_answers(cache: Path) -> None:
    digest = build_payload().digest
    _boot(cache, digest)
    hung = _server(cache)
    assert hung is not None
    os.kill(hung, signal.SIGSTOP)  # it accepts (the kernel's backlog) but never acknowledges
    try:
        code, envelope = _boot(cache, digest)
        assert code == ExitStatus.CLUSTER and "servedBy" not in envelope
        replacement = _server(cache)
        assert replacement is not None and replacement != hung
        code, envelope = _boot(cache, digest)
        assert envelope["servedBy"]["pid"] == replacement
        assert f"server {hung} did not answer: killing it" in (cache / digest / LOG).read_text()
    finally:
        try:
            os.kill(hung, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_server_of_another_digest_is_never_used(cache: Path) -> None:
    digest = build_payload().digest
    # another plugin version's code, with its own resident server
    shutil.copytree(cache / digest, cache / OTHER_DIGEST)
    _boot(cache, OTHER_DIGEST)
    other = _server(cache, OTHER_DIGEST)
    assert other is not None
    # its socket, reachable from our digest's directory as well
    os.link(cache / OTHER_DIGEST / SOCKET, cache / digest / SOCKET)
    code, envelope = _boot(cache, digest)
    assert code == ExitStatus.CLUSTER and "servedBy" not in envelope  # it refused: ran inline
    ours = _server(cache)
    assert ours is not None and ours != other
    code, envelope = _boot(cache, digest)
    assert envelope["servedBy"]["pid"] == ours


def test_a_failed_request_does_not_poison_the_server(cache: Path) -> None:
    digest = build_payload().digest
    _boot(cache, digest)
    server = _server(cache)
    code, envelope = _boot(cache, digest, request="{not json")
    assert code == ExitStatus.USAGE and envelope["servedBy"]["pid"] == server
    assert envelope["error"]["kind"] == "UsageError"
    code, envelope = _boot(cache, digest)
    assert code == ExitStatus.CLUSTER and envelope["servedBy"]["pid"] == server


def test_concurrent_cold_runs_all_answer_and_leave_one_server(cache: Path) -> None:
    digest = build_payload().digest
    results: list[tuple[int, dict[str, Any]]] = []

    def one() -> None:
        results.append(_boot(cache, digest))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [code for code, _ in results] == [ExitStatus.CLUSTER] * 4
    assert (cache / digest / LOG).read_text().count("serving") == 1
    server = _server(cache)
    assert all(_boot(cache, digest)[1]["servedBy"]["pid"] == server for _ in range(2))

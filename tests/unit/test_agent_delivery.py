"""Agent code delivery: framed payload, hash check, cache, warm runs send nothing.

The bootstrap runs for real (a local python3 -I -S process, as in the agent pod: no
site-packages, so only the payload can be imported); only the API server's exec
transport is faked, at our own ClusterPort.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.agent import AgentManager, AgentPod, last_used_text
from kubectl_podnet.cluster.agent_zip import Payload, build_payload
from kubectl_podnet.cluster.inspect_pods import run_agent
from kubectl_podnet.cluster.manifests import CACHE_DIR
from kubectl_podnet.envelope import RESULT_KIND
from kubectl_podnet.errors import AgentError, ExitStatus, NodeError
from kubectl_podnet.model import API_VERSION, InspectRequest
from tests.fakes import FakeCluster, running_agent_pod

REQUEST = InspectRequest(pod_uid="0a1b2c3d-0000-4000-8000-00000000abcd")  # no such pod on this machine


def _boot(cache: Path, mode: str, stdin: bytes | None = None, digest: str | None = None) -> subprocess.CompletedProcess[bytes]:
    payload = build_payload()
    argv = bootstrap.command(digest or payload.digest, mode, json.dumps({"podUid": REQUEST.pod_uid}), 60)
    return subprocess.run(
        [sys.executable, "-I", "-S", *argv[1:]], input=stdin, capture_output=True, timeout=60,
        env={"PODNET_CACHE": str(cache), "PATH": "/usr/bin:/bin"}, check=False,
    )


def test_payload_is_deterministic_and_carries_only_the_node_side() -> None:
    import io
    import zipfile

    payload = build_payload()
    names = zipfile.ZipFile(io.BytesIO(payload.data)).namelist()
    assert "kubectl_podnet/node/gather.py" in names and "pyroute2/iproute/linux.py" in names
    assert "kubectl_podnet/checks/registry.py" in names and "kubectl_podnet/envelope.py" in names
    assert not any(n.startswith(("kubectl_podnet/cli", "kubectl_podnet/cluster", "kubectl_podnet/lab",
                                 "kubectl_podnet/render", "kubectl_podnet/__main__")) for n in names)
    build_payload.cache_clear()
    assert build_payload().digest == payload.digest


def test_payload_zip_and_hash_are_cached_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    build_payload.cache_clear()
    fresh = build_payload()
    assert isinstance(fresh.source, bytes)  # built, then written to the cache
    build_payload.cache_clear()
    cached = build_payload()
    assert isinstance(cached.source, Path) and cached.digest == fresh.digest and cached.data == fresh.data
    build_payload.cache_clear()


def test_cold_cache_asks_for_the_payload(tmp_path: Path) -> None:
    done = _boot(tmp_path, "run")
    assert done.returncode == bootstrap.NEED_PAYLOAD
    assert json.loads(done.stdout)["needPayload"] is True


def test_framed_payload_installs_then_runs_the_agent_from_the_cache(tmp_path: Path) -> None:
    payload = build_payload()
    done = _boot(tmp_path, "install", bootstrap.frame(payload.data))
    envelope = json.loads(done.stdout.splitlines()[-1])
    # the agent really ran: it scanned /proc and found no such pod here
    assert envelope["error"]["kind"] == "NoPodProcess" and "no process of pod" in envelope["error"]["message"]
    assert (tmp_path / payload.digest / "kubectl_podnet" / "node" / "gather.py").is_file()
    warm = _boot(tmp_path, "run")
    assert json.loads(warm.stdout.splitlines()[-1])["error"]["kind"] == "NoPodProcess"


def test_an_install_that_lost_the_race_still_reads_the_whole_frame(tmp_path: Path) -> None:
    """Two cold execs both send the code; the second finds it installed. It must still read
    its stdin to the end: an unread upload blocks the sender and its exec never finishes."""
    payload = build_payload()
    framed = bootstrap.frame(payload.data)
    _boot(tmp_path, "install", framed)  # the first exec installed it
    upload = tmp_path / "upload"
    upload.write_bytes(framed)
    argv = bootstrap.command(payload.digest, "install", json.dumps({"podUid": REQUEST.pod_uid}), 60)
    with upload.open("rb") as stdin:  # a file, so its offset shows how much the script read
        done = subprocess.run([sys.executable, "-I", "-S", *argv[1:]], stdin=stdin, capture_output=True,
                              timeout=60, env={"PODNET_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"}, check=False)
        assert stdin.tell() == len(framed)
    assert json.loads(done.stdout.splitlines()[-1])["error"]["kind"] == "NoPodProcess"


def test_corrupted_payload_is_refused_and_not_cached(tmp_path: Path) -> None:
    payload = build_payload()
    damaged = bytearray(bootstrap.frame(payload.data))
    damaged[-10] ^= 0xFF
    done = _boot(tmp_path, "install", bytes(damaged))
    assert done.returncode == bootstrap.BAD_PAYLOAD
    assert "corrupted" in json.loads(done.stdout)["error"]["message"]
    assert not (tmp_path / payload.digest).exists()


def test_truncated_payload_is_refused(tmp_path: Path) -> None:
    done = _boot(tmp_path, "install", bootstrap.frame(build_payload().data)[:1000])
    assert done.returncode == bootstrap.BAD_PAYLOAD


def test_client_sends_once_then_runs_warm(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    cluster.add_pod(running_agent_pod("node-1"))
    agent = AgentPod(name="podnet-agent-x1", node="node-1", namespace="podnet-system")
    said: list[str] = []
    run = run_agent(cluster, agent, [REQUEST], 60, said.append)
    assert run.sent_payload
    (outcome,) = run.outcomes
    assert isinstance(outcome, NodeError) and "on node node-1: no process of pod" in str(outcome)
    assert [stdin for _, stdin in cluster.execs] == [0, len(bootstrap.frame(build_payload().data))]
    assert said[0].startswith("sending the agent code")
    cluster.execs.clear()
    assert not run_agent(cluster, agent, [REQUEST], 60, said.append).sent_payload
    assert [stdin for _, stdin in cluster.execs] == [0]  # warm: one exec, nothing sent


def test_a_new_agent_pod_gets_the_code_in_its_first_and_only_exec(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    cluster.add_pod(running_agent_pod("node-1"))
    agent = AgentPod(name="podnet-agent-x1", node="node-1", namespace="podnet-system", fresh=True)
    run = run_agent(cluster, agent, [REQUEST], 60, lambda _: None)
    assert run.sent_payload and isinstance(run.outcomes[0], NodeError)
    assert [stdin for _, stdin in cluster.execs] == [len(bootstrap.frame(build_payload().data))]
    cluster.execs.clear()
    run = run_agent(cluster, agent, [REQUEST], 60, lambda _: None)  # its cache has it already: still one exec
    assert [stdin for _, stdin in cluster.execs] == [len(bootstrap.frame(build_payload().data))]


def test_a_batch_is_one_exec_with_one_outcome_per_pod(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    cluster.add_pod(running_agent_pod("node-1"))
    agent = AgentPod(name="podnet-agent-x1", node="node-1", namespace="podnet-system")
    other = InspectRequest(pod_uid="0a1b2c3d-0000-4000-8000-00000000abce")
    bad = InspectRequest(pod_uid="not-a-uid")
    run = run_agent(cluster, agent, [REQUEST, other, bad], 60, lambda _: None)
    assert [type(o).__name__ for o in run.outcomes] == ["NoPodProcess", "NoPodProcess", "UsageError"]
    assert "abce" in str(run.outcomes[1])
    assert len(cluster.execs) == 2  # the cold "need payload" answer, then the one batch


def test_an_agent_that_prints_no_envelope_is_an_agent_error(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    cluster.add_pod(running_agent_pod("node-1"))
    agent = AgentPod(name="podnet-agent-x1", node="node-1", namespace="podnet-system")
    broken = Payload(digest="0" * 64, source=b"not a zip")
    with pytest.raises(AgentError, match="payload truncated or corrupted"):
        run_agent(cluster, agent, [REQUEST], 60, lambda _: None, payload=broken)


def test_a_digest_that_is_not_a_sha256_is_refused_before_touching_the_cache(tmp_path: Path) -> None:
    done = _boot(tmp_path, "run", digest="../../etc")
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"]["message"] == "the payload digest is not a sha256"
    assert list(tmp_path.iterdir()) == []


def test_each_run_stamps_when_the_agent_was_last_used_and_status_reads_it(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    manager = AgentManager(cluster)
    manager.install()
    cluster.add_pod(running_agent_pod("node-1"))
    assert manager.status()[1] == "  podnet-agent-x1 on node-1: Running, not used since it started"
    done = _boot(tmp_path, "run")  # a cold run: it answers NEED_PAYLOAD, and it was a use all the same
    assert done.returncode == bootstrap.NEED_PAYLOAD
    when, digest = (tmp_path / bootstrap.LAST_USED_FILE).read_text().split()
    assert digest == build_payload().digest and abs(int(when) - time.time()) < 3600
    assert manager.status()[1].startswith("  podnet-agent-x1 on node-1: Running, last used ")
    assert [p.name for p in tmp_path.iterdir()] == [bootstrap.LAST_USED_FILE]  # the stamp's temporary file is gone


def test_a_read_only_cache_never_fails_a_run_for_its_stamp(tmp_path: Path) -> None:
    done = _boot(tmp_path / "missing", "run")
    assert done.returncode == bootstrap.NEED_PAYLOAD


@pytest.mark.parametrize(
    ("stamp", "text"),
    [
        ("never", "not used since it started"),
        ("", "not used since it started"),
        (f"{1_800_000_000 - 42} {'a' * 64}", "last used 42s ago (2027-01-15 07:59:18 UTC)"),
        (f"{1_800_000_000 - 3 * 3600 - 5} {'a' * 64}", "last used 3h ago (2027-01-15 04:59:55 UTC)"),
        (f"{1_800_000_000 - 2 * 86400} x", "last used 2d ago (2027-01-13 08:00:00 UTC)"),
        ("garbage here", "last use unknown (stamp 'garbage here')"),
    ],
)
def test_the_stamp_reads_as_a_time_ago(stamp: str, text: str) -> None:
    assert last_used_text(stamp, 1_800_000_000) == text


def test_the_script_body_retypes_none_of_the_constants_it_is_generated_with() -> None:
    for value in ("64", "65", "podnet/v1", "PODNET1", "/var/cache/podnet", "AgentResult", "UsageError", "AgentError",
                  "last-used"):
        assert value not in bootstrap.BODY and value not in bootstrap.LAST_USED_BODY, value
    # and the generated script assigns each once, from the package's own constants
    assert f"API_VERSION = {API_VERSION!r}\n" in bootstrap.SCRIPT and f"CACHE_DIR = {CACHE_DIR!r}\n" in bootstrap.SCRIPT


def test_the_generated_script_answers_with_the_package_constants(tmp_path: Path) -> None:
    cold = _boot(tmp_path, "run")
    bad = _boot(tmp_path, "run", digest="f" * 63)
    assert (cold.returncode, bad.returncode) == (bootstrap.NEED_PAYLOAD, ExitStatus.USAGE)
    for done in (cold, bad):
        answer = json.loads(done.stdout)
        assert (answer["apiVersion"], answer["kind"], answer["exitCode"]) == (API_VERSION, RESULT_KIND, done.returncode)
    assert json.loads(bad.stdout)["error"]["kind"] == "UsageError"

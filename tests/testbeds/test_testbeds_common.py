"""The pieces both cluster tools share (testbeds.common): no root, no network, no cluster."""
from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from testbeds.common import mmdebstrap, mounts, oci, smoke
from testbeds.common.failure import Failure, explain
from testbeds.common.pidfiles import Daemons

MOUNTINFO = """27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
35 30 0:30 / /sys/fs/cgroup rw - tmpfs tmpfs rw
42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
50 27 0:44 / /var/lib/podnet-kind rw - ext4 /dev/vda rw
51 50 0:45 / /var/lib/podnet-kind/docker/overlay2/ab/merged rw - overlay overlay rw
52 27 0:46 / /var/lib/podnet-kinder rw - ext4 /dev/vda rw
53 27 0:47 / /mnt/with\\040space rw - tmpfs tmpfs rw
"""


def test_a_mount_point_is_one_that_mountinfo_lists() -> None:
    assert mounts.is_mount_point("/run/netns", MOUNTINFO)
    assert not mounts.is_mount_point("/run", MOUNTINFO)
    assert mounts.is_mount_point("/mnt/with space", MOUNTINFO)


def test_the_mounts_under_a_root_come_innermost_first_and_a_longer_name_is_not_under_it() -> None:
    assert mounts.mounts_under(("/var/lib/podnet-kind",), MOUNTINFO) == [
        "/var/lib/podnet-kind/docker/overlay2/ab/merged", "/var/lib/podnet-kind"]


def test_the_codename_comes_from_os_release() -> None:
    assert mmdebstrap.host_suite('NAME="Ubuntu"\nVERSION_CODENAME=noble\n') == "noble"
    assert mmdebstrap.host_suite('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_CODENAME=bookworm\n') == "bookworm"
    assert mmdebstrap.host_suite("ID=unknown\n") == "bookworm"


def test_an_image_archive_is_named_by_the_last_part_of_its_reference() -> None:
    assert oci.archive_name("localhost/podnet/pause:3.10") == "pause_3.10.oci.tar"
    assert oci.archive_name("example.invalid/coredns/coredns:v1.12.1") == "coredns_v1.12.1.oci.tar"


def _json_member(tar: tarfile.TarFile, name: str) -> Any:
    f = tar.extractfile(name)
    assert f is not None, f"{name} is not a regular file in the archive"
    return json.load(f)


def test_archive_names_the_image_for_ctr_import(tmp_path: Path) -> None:
    src = tmp_path / "hello"
    src.write_text("hi\n")
    layer = oci.tar_from_files(tmp_path / "layer.tar", [("hello", src, None, 0o644), ("etc", None, None, 0o755)])
    out = oci.build_archive(oci.ImageSpec(name="localhost/podnet/test:1", layers=(layer,), cmd=("sh",)),
                            tmp_path / "img.tar")
    with tarfile.open(out) as tar:
        index = _json_member(tar, "index.json")
        ann = index["manifests"][0]["annotations"]
        assert ann["io.containerd.image.name"] == "localhost/podnet/test:1"
        manifest = _json_member(tar, "blobs/sha256/" + index["manifests"][0]["digest"][7:])
        config = _json_member(tar, "blobs/sha256/" + manifest["config"]["digest"][7:])
        assert config["rootfs"]["diff_ids"] == [manifest["layers"][0]["digest"]]
        assert "blobs/sha256/" + manifest["layers"][0]["digest"][7:] in tar.getnames()


def test_the_same_inputs_give_the_same_archive_bytes(tmp_path: Path) -> None:
    src = tmp_path / "hello"
    src.write_text("hi\n")
    outs = []
    for n in (1, 2):
        layer = oci.tar_from_files(tmp_path / f"layer{n}.tar", [("hello", src, None, 0o644)])
        os.utime(layer, (n * 1000, n * 1000))  # different file times must not matter
        outs.append(oci.build_archive(oci.ImageSpec(name="localhost/podnet/test:1", layers=(layer,)),
                                      tmp_path / f"img{n}.tar").read_bytes())
    assert outs[0] == outs[1]


def test_the_platform_is_the_machines() -> None:
    assert oci.go_arch("x86_64") == "amd64"
    assert oci.go_arch("aarch64") == "arm64"
    assert oci.image_config(oci.ImageSpec(name="x:1", layers=()), [])["architecture"] == oci.go_arch()


def test_the_smoke_pod_has_a_server_and_a_client_that_never_pull() -> None:
    namespace, pod = (json.loads(doc) for doc in smoke.manifests("ns", "img:1", "Never"))
    assert namespace["metadata"]["name"] == "ns"
    assert pod["metadata"]["namespace"] == "ns"
    containers = pod["spec"]["containers"]
    assert [c["name"] for c in containers] == ["server", "client"]
    assert {(c["image"], c["imagePullPolicy"]) for c in containers} == {("img:1", "Never")}
    assert "nodeName" not in pod["spec"]


def test_the_smoke_pod_can_be_pinned_to_a_node() -> None:
    _, pod = smoke.manifests("ns", "img:1", "IfNotPresent", node="w1")
    assert json.loads(pod)["spec"]["nodeName"] == "w1"


@pytest.fixture
def daemons(tmp_path: Path) -> Daemons:
    return Daemons(pid_dir=tmp_path / "pids", log_dir=tmp_path / "logs")


SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def test_a_started_daemon_is_found_by_its_pidfile_and_stopped(daemons: Daemons) -> None:
    started = daemons.start("sleeper", SLEEPER)
    try:
        assert daemons.running("sleeper") == started
        assert daemons.pidfile("sleeper").read_text() == f"{started.pid} {started.started}\n"
    finally:
        assert daemons.stop("sleeper", timeout=5)
    assert daemons.running("sleeper") is None
    assert not daemons.pidfile("sleeper").exists()
    assert "start: " in daemons.tail("sleeper")


def test_a_pidfile_whose_start_time_is_not_the_pids_is_not_ours(daemons: Daemons) -> None:
    daemons.pid_dir.mkdir(parents=True)
    daemons.pidfile("recycled").write_text(f"{os.getpid()} 1\n")  # a live pid, started at another time
    assert daemons.read("recycled") is not None
    assert daemons.running("recycled") is None
    assert not daemons.stop("recycled")  # never signalled
    assert not daemons.pidfile("recycled").exists()


def test_waiting_on_a_daemon_that_exits_names_it(daemons: Daemons) -> None:
    daemons.start("quitter", [sys.executable, "-c", "pass"])
    with pytest.raises(Failure) as failed:
        daemons.wait("quitter", "its socket", lambda: False, timeout=10, interval=0.05)
    assert (failed.value.component, failed.value.message) == ("quitter", "exited while waiting for its socket")


def test_a_probe_that_raises_is_not_yet_and_its_error_is_told_at_the_timeout(daemons: Daemons) -> None:
    daemons.start("sleeper", SLEEPER)
    try:
        def refused() -> bool:
            raise ConnectionRefusedError("refused")

        with pytest.raises(Failure, match=r"timed out after 0s waiting for /health \(refused\)"):
            daemons.wait("sleeper", "/health", refused, timeout=0.3, interval=0.05)
    finally:
        daemons.stop("sleeper", timeout=5)


def test_a_failed_daemon_is_explained_with_the_end_of_its_log(daemons: Daemons) -> None:
    daemons.log_dir.mkdir(parents=True)
    daemons.log_path("etcd").write_text("".join(f"line {n}\n" for n in range(40)))
    out = io.StringIO()
    explain("localcluster", Failure("etcd", "exited while waiting for /health"), daemons, out)
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["", "localcluster: FAILED in etcd: exited while waiting for /health",
                         f"--- last lines of {daemons.log_path('etcd')} ---"]
    assert lines[3:] == [f"line {n}" for n in range(15, 40)]


def test_a_failed_client_is_explained_without_a_log(daemons: Daemons) -> None:
    out = io.StringIO()
    explain("kindcluster", Failure("kubectl", "apply failed"), daemons, out)
    assert out.getvalue() == "\nkindcluster: FAILED in kubectl: apply failed\n"

"""/proc readers tolerate processes that vanish mid-scan; real processes, no fakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from kubectl_podnet.node.procfs import PinnedNetns, ProcFS, pinned_netns


def test_a_process_that_exited_reads_as_nothing() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    procfs = ProcFS()
    assert procfs.read(child.pid, "cgroup") is None
    assert procfs.read_bytes(child.pid, "cgroup") is None
    assert procfs.cmdline(child.pid) == []
    assert procfs.comm(child.pid) is None
    assert procfs.read(child.pid, "net/tcp") is None
    assert procfs.netns_inode(child.pid) is None
    assert procfs.socket_inodes(child.pid) == set()


def test_own_process_is_read() -> None:
    procfs = ProcFS()
    assert os.getpid() in set(procfs.pids())
    assert procfs.netns_inode(os.getpid()) == os.stat("/proc/self/ns/net").st_ino
    assert procfs.cmdline(os.getpid())[0] == open("/proc/self/cmdline", "rb").read().split(b"\0")[0].decode()


def test_socket_inodes_of_a_listening_process() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        inode = os.stat(f"/proc/self/fd/{sock.fileno()}").st_ino
        assert inode in ProcFS().socket_inodes(os.getpid())


def test_pinned_netns_of_a_missing_directory_is_empty() -> None:
    assert pinned_netns("/nonexistent/netns") == {}


def test_pinned_listing_is_shared_and_a_pin_made_after_it_is_still_found(tmp_path: Path) -> None:
    # plain files stand in for bind-mounted netns: the listing only stats what is there
    (tmp_path / "cni-a").write_text("")
    pinned = PinnedNetns(str(tmp_path))
    first = os.stat(tmp_path / "cni-a").st_ino
    assert pinned.path_of(first) == str(tmp_path / "cni-a")
    (tmp_path / "cni-b").write_text("")  # a pod started after the listing
    assert pinned.path_of(os.stat(tmp_path / "cni-b").st_ino) == str(tmp_path / "cni-b")

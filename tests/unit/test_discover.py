"""Finding a pod's sandbox and containers, on a temporary /proc tree through ProcFS's root.

The tree holds what ProcFS reads: `<pid>/cgroup`, `cmdline`, `comm` and `ns/net`, a
symlink to a file standing for a netns (its inode is the netns inode, as stat() through
/proc/<pid>/ns/net gives). Processes that vanish are removed from the tree at the exact
moment between the cgroup scan and the netns read, through a ProcFS subclass; one test
links ns/net to a real child process's /proc entry and lets the child really exit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_podnet.model import ContainerRef
from kubectl_podnet.node.discover import find_sandbox, scan_pod, split_sandbox
from kubectl_podnet.node.procfs import ProcFS

UID = "0a1b2c3d-0000-4000-8000-00000000abcd"
OTHER_UID = "0a1b2c3d-0000-4000-8000-00000000ffff"
WEB, SIDECAR, PAUSE, STRAY = "a" * 64, "b" * 64, "c" * 64, "d" * 64


def cgroup_line(uid: str, cid: str, prefix: str = "cri-containerd") -> str:
    pod = f"kubepods-besteffort-pod{uid.replace('-', '_')}.slice"
    return f"0::/kubelet.slice/kubelet-kubepods.slice/kubepods-besteffort.slice/{pod}/{prefix}-{cid}.scope\n"


class ProcTree:
    """A directory laid out like /proc for the files ProcFS reads."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / ".netns").mkdir(parents=True)

    def netns(self, name: str) -> Path:
        path = self.root / ".netns" / name
        path.touch()
        return path

    def inode(self, name: str) -> int:
        return self.netns(name).stat().st_ino

    def add(self, pid: int, cgroup: str, argv: list[str], netns: str | Path, comm: str | None = None) -> None:
        directory = self.root / str(pid)
        (directory / "ns").mkdir(parents=True)
        (directory / "cgroup").write_text(cgroup)
        (directory / "cmdline").write_bytes(b"\0".join(a.encode() for a in argv) + b"\0")
        (directory / "comm").write_text((comm or os.path.basename(argv[0]))[:15] + "\n")
        target = netns if isinstance(netns, Path) else self.netns(netns)
        (directory / "ns" / "net").symlink_to(target)

    def remove(self, pid: int) -> None:
        shutil.rmtree(self.root / str(pid))


class VanishingProcFS(ProcFS):
    """Real reads on the tree; `pid` disappears right before its netns is first read."""

    def __init__(self, tree: ProcTree, *gone: int) -> None:
        super().__init__(str(tree.root))
        self.tree, self.gone = tree, set(gone)

    def netns_inode(self, pid: int | str) -> int | None:
        if pid in self.gone:
            self.gone.discard(int(pid))
            self.tree.remove(int(pid))
        return super().netns_inode(pid)


@pytest.fixture
def tree(tmp_path: Path) -> ProcTree:
    proc = ProcTree(tmp_path / "proc")
    proc.add(100, cgroup_line(UID, PAUSE), ["/pause"], "pod")
    proc.add(101, cgroup_line(UID, WEB), ["/bin/server", "--port", "8080"], "pod")
    proc.add(102, cgroup_line(UID, WEB), ["/bin/worker"], "pod")
    proc.add(103, cgroup_line(UID, SIDECAR), ["sleep", "infinity"], "pod")
    proc.add(200, cgroup_line(OTHER_UID, STRAY), ["/bin/other"], "other")
    proc.add(300, "0::/system.slice/ssh.service\n", ["/usr/sbin/sshd"], "node")
    return proc


EXPECTED = [ContainerRef(WEB, "web"), ContainerRef(SIDECAR, "sidecar")]


def test_scan_finds_each_container_of_the_pod_and_nothing_else(tree: ProcTree) -> None:
    groups = scan_pod(ProcFS(str(tree.root)), UID)
    assert {cid: g.pids for cid, g in groups.items()} == {PAUSE: [100], WEB: [101, 102], SIDECAR: [103]}
    assert {g.runtime for g in groups.values()} == {"containerd"}


def test_crio_conmon_is_not_a_container(tree: ProcTree) -> None:
    tree.add(104, cgroup_line(UID, SIDECAR, "crio-conmon"), ["/usr/bin/conmon"], "node")
    assert scan_pod(ProcFS(str(tree.root)), UID)[SIDECAR].pids == [103]


def test_pause_is_the_sandbox_and_the_containers_keep_the_api_order(tree: ProcTree) -> None:
    procfs = ProcFS(str(tree.root))
    containers, pauses = split_sandbox(procfs, scan_pod(procfs, UID), list(reversed(EXPECTED)))
    assert [c.name for c in containers] == ["sidecar", "web"] and [cid for cid, _ in pauses] == [PAUSE]
    web = containers[1]
    assert (web.pids, web.command, web.netns_inode) == ([101, 102], "/bin/server --port 8080", tree.inode("pod"))
    sandbox = find_sandbox(procfs, containers, pauses, str(tree.root / "no-pins"))
    assert (sandbox.source, sandbox.pid, sandbox.container_id, sandbox.command) == ("pause-process", 100, PAUSE, "/pause")
    assert sandbox.netns_inode == tree.inode("pod") and sandbox.netns_path == f"{tree.root}/100/ns/net"


def test_a_pause_known_only_by_its_comm_is_still_the_sandbox(tree: ProcTree) -> None:
    tree.remove(100)
    tree.add(100, cgroup_line(UID, PAUSE), [], "pod", comm="pause")  # a kernel-side view: empty cmdline
    procfs = ProcFS(str(tree.root))
    _, pauses = split_sandbox(procfs, scan_pod(procfs, UID), EXPECTED)
    assert [cid for cid, _ in pauses] == [PAUSE]


def test_an_id_the_api_did_not_list_is_reported_as_unknown(tree: ProcTree) -> None:
    tree.add(105, cgroup_line(UID, STRAY), ["/bin/debug"], "pod")
    procfs = ProcFS(str(tree.root))
    containers, _ = split_sandbox(procfs, scan_pod(procfs, UID), EXPECTED)
    assert [(c.id, c.role) for c in containers][-1] == (STRAY, "unknown")


def test_without_pause_the_pinned_netns_the_containers_share_is_the_sandbox(tree: ProcTree, tmp_path: Path) -> None:
    tree.remove(100)
    pins = tmp_path / "netns"
    pins.mkdir()
    os.link(tree.netns("pod"), pins / "cni-1234")
    procfs = ProcFS(str(tree.root))
    containers, pauses = split_sandbox(procfs, scan_pod(procfs, UID), EXPECTED)
    sandbox = find_sandbox(procfs, containers, pauses, str(pins))
    assert (sandbox.source, sandbox.pinned_path, sandbox.pid) == ("pinned-netns", str(pins / "cni-1234"), None)


def test_a_container_whose_only_process_vanished_after_the_scan_is_not_running(tree: ProcTree) -> None:
    procfs = VanishingProcFS(tree, 103)
    groups = scan_pod(procfs, UID)
    assert groups[SIDECAR].pids == [103]  # the scan saw it
    containers, _ = split_sandbox(procfs, groups, EXPECTED)
    sidecar = containers[1]
    assert (sidecar.name, sidecar.pids, sidecar.netns_inode, sidecar.command) == ("sidecar", [], None, None)


def test_a_container_keeps_its_processes_that_are_still_there(tree: ProcTree) -> None:
    procfs = VanishingProcFS(tree, 101)
    containers, _ = split_sandbox(procfs, scan_pod(procfs, UID), EXPECTED)
    assert (containers[0].pids, containers[0].command, containers[0].netns_inode) == (
        [102], "/bin/worker", tree.inode("pod"))


def test_a_pause_that_vanished_is_no_sandbox_and_an_unknown_id_that_vanished_is_dropped(tree: ProcTree) -> None:
    tree.add(105, cgroup_line(UID, STRAY), ["/bin/debug"], "pod")
    procfs = VanishingProcFS(tree, 100, 105)
    containers, pauses = split_sandbox(procfs, scan_pod(procfs, UID), EXPECTED)
    assert [c.name for c in containers] == ["web", "sidecar"] and pauses == []
    assert find_sandbox(procfs, containers, pauses, str(tree.root / "no-pins")).source == "none"


def test_a_real_process_that_exits_between_scan_and_netns_read(tree: ProcTree) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        tree.remove(103)  # the sidecar's netns link is the live child's own /proc entry
        tree.add(103, cgroup_line(UID, SIDECAR), ["sleep", "infinity"], Path(f"/proc/{child.pid}/ns/net"))
        procfs = ProcFS(str(tree.root))
        groups = scan_pod(procfs, UID)
        assert procfs.netns_inode(103) == os.stat(f"/proc/{child.pid}/ns/net").st_ino  # alive: readable
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait()
    containers, _ = split_sandbox(procfs, groups, EXPECTED)
    assert (containers[1].pids, containers[1].netns_inode) == ([], None)

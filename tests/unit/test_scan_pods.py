"""One pass over /proc for a node's whole batch finds what one pass per pod finds.

A saved-text /proc tree (cgroup v2, systemd driver, containerd), so the test runs anywhere.
"""

from __future__ import annotations

from pathlib import Path

from kubectl_podnet.node.discover import scan_pod, scan_pods
from kubectl_podnet.node.procfs import ProcFS

UIDS = ["0a1b2c3d-0000-4000-8000-00000000000" + str(i) for i in range(3)]


def _cgroup(uid: str, container: str) -> str:
    qos = "kubepods-besteffort"
    return f"0::/kubepods.slice/{qos}.slice/{qos}-pod{uid.replace('-', '_')}.slice/cri-containerd-{container}.scope\n"


def _proc(tmp_path: Path) -> ProcFS:
    lines = {
        10: _cgroup(UIDS[0], "a" * 64), 11: _cgroup(UIDS[0], "b" * 64), 12: _cgroup(UIDS[0], "a" * 64),
        20: _cgroup(UIDS[1], "c" * 64),
        30: "0::/system.slice/containerd.service\n",  # not a pod
        40: _cgroup("ffffffff-0000-4000-8000-000000000000", "d" * 64),  # a pod nobody asked about
    }
    for pid, text in lines.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "cgroup").write_text(text)
    return ProcFS(str(tmp_path))


def test_one_pass_for_the_batch_finds_what_a_pass_per_pod_finds(tmp_path: Path) -> None:
    procfs = _proc(tmp_path)
    batch = scan_pods(procfs, UIDS)
    assert set(batch) == set(UIDS)
    for uid in UIDS:
        assert batch[uid] == scan_pod(procfs, uid)
    assert {cid[0]: group.pids for cid, group in batch[UIDS[0]].items()} == {"a": [10, 12], "b": [11]}
    assert list(batch[UIDS[1]]) == ["c" * 64] and batch[UIDS[2]] == {}

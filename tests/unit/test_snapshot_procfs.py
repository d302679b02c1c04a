"""A batch scans /proc once: cgroups and the pid list are read once per agent run, the rest live."""

from __future__ import annotations

from pathlib import Path

from kubectl_podnet.node.snapshot import SnapshotProcFS


def test_cgroups_and_pids_are_read_once_other_files_every_time(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "cgroup").write_text("0::/kubepods/pod1/a\n")
    (tmp_path / "42" / "comm").write_text("pause\n")
    procfs = SnapshotProcFS(str(tmp_path))
    assert list(procfs.pids()) == [42]
    assert procfs.read_bytes(42, "cgroup") == b"0::/kubepods/pod1/a\n"
    (tmp_path / "42" / "cgroup").write_text("0::/elsewhere\n")
    (tmp_path / "42" / "comm").write_text("sleep\n")
    (tmp_path / "43").mkdir()
    assert procfs.read_bytes("42", "cgroup") == b"0::/kubepods/pod1/a\n"  # the snapshot
    assert list(procfs.pids()) == [42]
    assert procfs.comm(42) == "sleep"  # not cached: only the scan's own reads are


def test_a_process_gone_before_the_scan_stays_gone(tmp_path: Path) -> None:
    procfs = SnapshotProcFS(str(tmp_path))
    assert procfs.read_bytes(7, "cgroup") is None
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "cgroup").write_text("0::/x\n")
    assert procfs.read_bytes(7, "cgroup") is None

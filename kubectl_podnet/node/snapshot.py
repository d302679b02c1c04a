"""One /proc scan for a whole batch: a ProcFS that reads each process's cgroup once.

Finding a pod's processes reads /proc/<pid>/cgroup of every process on the node; a batch
(many pods in one agent run: `inspect -l`, `node map`) did that once per pod, so a
100-pod node paid 100 scans of its ~500 processes. Within one agent run the cgroup of
a process does not change, so we keep the bytes; a process that exits meanwhile is
tolerated as before (its other files read as gone), and one started meanwhile is not a
container of the pods we were asked about.
"""

from __future__ import annotations

from collections.abc import Iterator

from kubectl_podnet.node.procfs import ProcFS


class SnapshotProcFS(ProcFS):
    def __init__(self, root: str = "/proc") -> None:
        super().__init__(root)
        self._pids: list[int] | None = None
        self._cgroups: dict[int, bytes | None] = {}

    def pids(self) -> Iterator[int]:
        if self._pids is None:
            self._pids = list(super().pids())
        return iter(self._pids)

    def read_bytes(self, pid: int | str, name: str) -> bytes | None:
        if name != "cgroup":
            return super().read_bytes(pid, name)
        key = int(pid)
        if key not in self._cgroups:
            self._cgroups[key] = super().read_bytes(pid, name)
        return self._cgroups[key]

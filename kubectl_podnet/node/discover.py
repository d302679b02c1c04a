"""Find a pod's sandbox and container processes from /proc, runtime-agnostic.

A pod's processes carry its uid in their cgroup path and each container's leaf carries
its id. The ids the API server lists are the containers; another id in the pod cgroup
whose process is `pause` is the sandbox. CRI-O with `drop_infra_ctr` runs no pause: its
netns is pinned under /run/netns, which we find by inode.

Processes come and go while we look. The cgroup scan names the pids; reading each one's
netns link is the moment we know it still runs: a pid gone by then is dropped, so a
container whose processes all exited is reported as not running (no pids), and a sandbox
candidate whose pause exited is no candidate.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from kubectl_podnet.model import ContainerFacts, ContainerRef, Sandbox
from kubectl_podnet.node.cgroup import parse_proc_cgroup
from kubectl_podnet.node.procfs import PinnedNetns, ProcFS


@dataclass
class CgroupGroup:
    runtime: str | None
    path: str
    pids: list[int] = field(default_factory=list)
    netns_inode: int | None = None  # of its first pid still running, once `read_netns` ran


def scan_pod(procfs: ProcFS, pod_uid: str) -> dict[str, CgroupGroup]:
    """container id -> its processes, for every process in the pod's cgroup."""
    return scan_pods(procfs, [pod_uid])[pod_uid]


# a superset of what cgroup.parse_proc_cgroup takes for a pod segment: a filter, not the parser
_UID_AFTER_POD = re.compile(rb"pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})")


def scan_pods(procfs: ProcFS, pod_uids: Iterable[str]) -> dict[str, dict[str, CgroupGroup]]:
    """scan_pod for several pods in one pass over /proc: a node's batch reads each process's
    cgroup once, not once per pod (one pass per pod made a batch quadratic in the node's pods)."""
    scanned: dict[str, dict[str, CgroupGroup]] = {uid: {} for uid in pod_uids}
    wanted = {uid.encode() for uid in scanned}
    for pid in procfs.pids():
        raw = procfs.read_bytes(pid, "cgroup")
        # cheap filter before parsing: one regex pass for every uid the file names (with dashes
        # or underscores), looked up in a set; testing each wanted uid in turn made a batch
        # quadratic in its pods
        if not raw or not any(uid.replace(b"_", b"-") in wanted for uid in _UID_AFTER_POD.findall(raw)):
            continue
        found = parse_proc_cgroup(raw.decode("utf-8", "replace"))
        if found is None or found.pod_uid not in scanned or found.container_id is None:
            continue
        if found.runtime == "cri-o-conmon":
            continue  # CRI-O's monitor process lives beside the container, not in it
        groups = scanned[found.pod_uid]
        group = groups.setdefault(found.container_id, CgroupGroup(found.runtime, found.path))
        group.pids.append(pid)
    for groups in scanned.values():
        for group in groups.values():
            group.pids.sort()
    return scanned


def read_netns(procfs: ProcFS, groups: dict[str, CgroupGroup]) -> None:
    """Keep the pids whose netns link can still be read; note the first one's netns inode."""
    for group in groups.values():
        alive = [(pid, inode) for pid in group.pids if (inode := procfs.netns_inode(pid)) is not None]
        group.pids = [pid for pid, _ in alive]
        group.netns_inode = alive[0][1] if alive else None


def is_pause(procfs: ProcFS, pid: int) -> bool:
    argv = procfs.cmdline(pid)
    return (bool(argv) and os.path.basename(argv[0]) == "pause") or procfs.comm(pid) == "pause"


def _command(procfs: ProcFS, pid: int) -> str | None:
    argv = procfs.cmdline(pid)
    return " ".join(argv) if argv else procfs.comm(pid)


def split_sandbox(
    procfs: ProcFS, groups: dict[str, CgroupGroup], expected: list[ContainerRef]
) -> tuple[list[ContainerFacts], list[tuple[str, CgroupGroup]]]:
    """The containers (in the API's order, then unknown ids) and the pause candidates.

    Reads each group's netns first (`read_netns`): an expected container none of whose
    pids is left is listed with no pids; an unknown id with none left is not listed.
    """
    read_netns(procfs, groups)
    expected_ids = {ref.id for ref in expected}
    pauses = [
        (cid, group)
        for cid, group in groups.items()
        if cid not in expected_ids and group.pids and is_pause(procfs, group.pids[0])
    ]
    pause_ids = {cid for cid, _ in pauses}
    refs = list(expected) + [
        ContainerRef(id=cid, name=None, role="unknown")
        for cid in sorted(groups)
        if cid not in expected_ids and cid not in pause_ids and groups[cid].pids
    ]
    containers = []
    for ref in refs:
        group = groups.get(ref.id)
        pids = group.pids if group else []
        containers.append(
            ContainerFacts(
                id=ref.id,
                name=ref.name,
                role=ref.role,
                runtime=group.runtime if group else None,
                pids=pids,
                command=_command(procfs, pids[0]) if pids else None,
                netns_inode=group.netns_inode if group else None,
                cgroup_path=group.path if group else None,
                status=ref.status,
            )
        )
    return containers, pauses


def find_sandbox(
    procfs: ProcFS,
    containers: list[ContainerFacts],
    pauses: list[tuple[str, CgroupGroup]],
    netns_dir: str,
    pinned: PinnedNetns | None = None,
) -> Sandbox:
    """The pause process (most shared by the containers, if several), else a pinned netns
    (under `netns_dir`; `pinned`: its listing shared by a batch)."""
    votes = Counter(c.netns_inode for c in containers if c.netns_inode is not None)
    best: Sandbox | None = None
    for cid, group in pauses:
        pid, inode = group.pids[0], group.netns_inode
        if inode is None:
            continue  # exited while we looked
        candidate = Sandbox(
            source="pause-process",
            netns_inode=inode,
            netns_path=procfs.netns_path(pid),
            pid=pid,
            container_id=cid,
            command=_command(procfs, pid),
        )
        if best is None or votes[inode] > votes[best.netns_inode or 0]:
            best = candidate
    pins = pinned if pinned is not None else PinnedNetns(netns_dir)
    if best is not None:
        assert best.netns_inode is not None
        path = pins.path_of(best.netns_inode)
        if path is not None:
            best = dataclasses.replace(best, pinned_path=path)
        return best
    for inode, _ in votes.most_common():
        path = pins.path_of(inode)
        if path is not None:
            return Sandbox(source="pinned-netns", netns_inode=inode, netns_path=path, pinned_path=path)
    return Sandbox(source="none", netns_inode=None, netns_path=None)

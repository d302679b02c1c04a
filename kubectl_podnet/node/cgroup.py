"""Parse `/proc/<pid>/cgroup` text into (pod uid, container id, runtime).

Pure functions on text, tested on saved real samples. We match on the pod segment and
the container leaf anywhere in the path, never on a prefix, because the prefix varies
with the cgroup driver (systemd `kubepods.slice` vs cgroupfs `kubepods/`), with
kind's `cgroupRoot: /kubelet`, and with a private cgroup namespace (`/../..`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# systemd: kubepods-besteffort-pod<uid with _>.slice, kubepods-pod<uid>.slice (Guaranteed)
# cgroupfs: pod<uid with ->; static pods use the 32-hex config hash as their uid
_POD_SEGMENT = re.compile(
    r"(?:^|-)pod(?P<uid>[0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12}|[0-9a-f]{32})"
    r"(?:\.slice)?$"
)
# containerd 1.4 with the systemd driver sometimes used its cgroupsPath
# "<slice>:cri-containerd:<id>" literally as one directory name
_COLON_FORM = re.compile(r"\.slice:(cri-containerd|crio|docker):([0-9a-f]{64})")
_LEAF = re.compile(
    r"^(?:(?P<prefix>cri-containerd|crio-conmon|crio|docker|cri-o)-)?(?P<id>[0-9a-f]{64})(?:\.scope)?$"
)
_RUNTIME_BY_PREFIX = {
    "cri-containerd": "containerd",
    "crio": "cri-o",
    "cri-o": "cri-o",
    "crio-conmon": "cri-o-conmon",
    "docker": "docker",
}


@dataclass(frozen=True)
class PodCgroup:
    pod_uid: str
    container_id: str | None
    runtime: str | None
    path: str


def parse_cgroup_path(path: str) -> PodCgroup | None:
    """The pod and container a cgroup path belongs to, or None for a non-pod path."""
    normalised = _COLON_FORM.sub(r".slice/\1-\2", path)
    segments = [segment for segment in normalised.split("/") if segment and segment != ".."]
    for index, segment in enumerate(segments):
        match = _POD_SEGMENT.search(segment)
        if not match:
            continue
        uid = match.group("uid").replace("_", "-")
        container_id = runtime = None
        if index + 1 < len(segments):
            leaf = _LEAF.match(segments[index + 1])
            if leaf:
                container_id = leaf.group("id")
                prefix = leaf.group("prefix")
                runtime = _RUNTIME_BY_PREFIX[prefix] if prefix else None
        return PodCgroup(pod_uid=uid, container_id=container_id, runtime=runtime, path=path)
    return None


def parse_proc_cgroup(text: str) -> PodCgroup | None:
    """The pod cgroup of a process from its whole `/proc/<pid>/cgroup` file.

    v1 has a line per hierarchy, v2 a single `0::` line, hybrid hosts both. Lines not
    under a pod are skipped; the most specific pod match (one with a container id) wins.
    """
    best: PodCgroup | None = None
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        found = parse_cgroup_path(parts[2])
        if found is None:
            continue
        if found.container_id is not None:
            return found
        best = best or found
    return best

"""What the machine looked like before the first `up`, and putting it back.

`up` records, once, the things the cluster may change that are not under its
own directories: links, pinned netns files, top-level `kubepods` cgroups, a few
sysctls the kubelet and the CNI plugins set, and shared directories that the
runtime creates on first use.  `down` removes only what is new since then and
restores the sysctls.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import NotRequired, TypedDict, cast

from testbeds.common import mounts
from testbeds.localcluster import settings as S

# Set by the kubelet (setupKernelTunables) and by the CNI gateway plugins (ip_forward).
SYSCTLS = (
    "vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/ipv4/ip_forward",
)
# Created by containerd / the kubelet / libcni at fixed paths on first use.
SHARED_DIRS = ("/var/run/netns", "/run/containerd", "/var/lib/cni", "/var/log/containers")


class Snapshot(TypedDict):
    """host-before.json; a snapshot without `netns_mount` (down's fallback) unmounts nothing."""
    netns_mount: NotRequired[bool]
    links: list[str]
    netns: list[str]
    kubepods: list[str]
    sysctls: dict[str, str]
    dirs: list[str]


def snapshot_path() -> Path:
    return S.STATE_ROOT / "host-before.json"


def links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return sorted(line.split(":", 2)[1].strip().split("@")[0] for line in out.splitlines() if line.strip())


def our_pod_veths(bridge: str, ptp_gateway: str, link_json: str | None = None,
                  addr_json: str | None = None) -> list[str]:
    """Host-side pod veths: enslaved to our bridge, or (ptp) holding our gateway as a /32."""
    if link_json is None:
        link_json = subprocess.run(["ip", "-j", "link", "show", "type", "veth"], capture_output=True, text=True).stdout
    if addr_json is None:
        addr_json = subprocess.run(["ip", "-j", "-4", "addr", "show", "type", "veth"], capture_output=True, text=True).stdout
    found = set()
    for link in json.loads(link_json or "[]"):
        if link.get("master") == bridge:
            found.add(link["ifname"])
    for link in json.loads(addr_json or "[]"):
        if any(a.get("local") == ptp_gateway and a.get("prefixlen") == 32 for a in link.get("addr_info", [])):
            found.add(link["ifname"])
    return sorted(found)


def netns_files() -> list[str]:
    try:
        return sorted(os.listdir("/var/run/netns"))
    except OSError:
        return []


def cgroup_mounts(mountinfo: str | None = None) -> list[str]:
    """Pure on its input: mount points of every cgroup (v1) and cgroup2 hierarchy."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    found = []
    for line in text.splitlines():
        left, _, right = line.partition(" - ")
        fstype = right.split()[0] if right else ""
        if fstype in ("cgroup", "cgroup2"):
            found.append(left.split()[4])
    return found


# kubepods: the kubelet's cgroupfs tree; k8s.io: where `ctr -n k8s.io run` (debugging) puts tasks.
CGROUP_NAMES = ("kubepods", "k8s.io")


def kubepods_cgroups() -> list[str]:
    return sorted(f"{m}/{n}" for m in cgroup_mounts() for n in CGROUP_NAMES if os.path.isdir(f"{m}/{n}"))


def read_sysctls() -> dict[str, str]:
    values = {}
    for key in SYSCTLS:
        try:
            values[key] = Path("/proc/sys", key).read_text().strip()
        except OSError:
            pass
    return values


NETNS_DIR = "/run/netns"


def take() -> Snapshot:
    return {
        "netns_mount": mounts.is_mount_point(NETNS_DIR),
        "links": links(),
        "netns": netns_files(),
        "kubepods": kubepods_cgroups(),
        "sysctls": read_sysctls(),
        "dirs": [d for d in SHARED_DIRS if os.path.lexists(d)],
    }


def record_once() -> Snapshot:
    path = snapshot_path()
    if path.exists():
        return cast(Snapshot, json.loads(path.read_text()))  # written by take()
    snap = take()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(snap, indent=1) + "\n")
    return snap


def load() -> Snapshot | None:
    try:
        return cast(Snapshot, json.loads(snapshot_path().read_text()))  # written by take()
    except (OSError, ValueError):
        return None


def restore_sysctls(before: dict[str, str]) -> list[str]:
    changed = []
    for key, value in before.items():
        p = Path("/proc/sys", key)
        try:
            if p.read_text().strip() != value:
                p.write_text(value + "\n")
                changed.append(f"{key}={value}")
        except OSError:
            pass
    return changed


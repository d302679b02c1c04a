"""The machine's mounts as /proc/self/mountinfo lists them, and unmounting everything under our roots.

Pure on a mountinfo text where one is given (the unit tests pass saved lines).
"""
from __future__ import annotations

import subprocess
from pathlib import Path


def mountpoints(mountinfo: str | None = None) -> list[str]:
    """Every mount point (field 5), with mountinfo's `\\040` for a space undone."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    return [line.split()[4].replace("\\040", " ") for line in text.splitlines() if line.strip()]


def is_mount_point(path: str, mountinfo: str | None = None) -> bool:
    return path in mountpoints(mountinfo)


def mounts_under(prefixes: tuple[str, ...], mountinfo: str | None = None) -> list[str]:
    """The mount points at or below any of `prefixes`, longest (innermost) first."""
    found = {mp for mp in mountpoints(mountinfo)
             if any(mp == p or mp.startswith(p.rstrip("/") + "/") for p in prefixes)}
    return sorted(found, key=len, reverse=True)


def umount_all(prefixes: tuple[str, ...]) -> list[str]:
    """Unmount everything under `prefixes` (lazily where a plain umount is refused), three
    rounds for mounts that uncover others; return what is still mounted."""
    for _ in range(3):
        mps = mounts_under(prefixes)
        if not mps:
            return []
        for mp in mps:
            if subprocess.run(["umount", mp], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", mp], capture_output=True)
    return mounts_under(prefixes)

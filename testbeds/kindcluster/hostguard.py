"""What the kind nodes may change outside our netns and directories, recorded and put back.

The nodes are privileged containers: their kubelet (setupKernelTunables) and systemd
(systemd-sysctl) write sysctls that are not per network namespace (vm.*, kernel.*, fs.*)
into the machine's /proc/sys, and docker creates a missing /lib/modules for kind's bind
mount.  `up` records the machine's values once (before the first node starts); `down`
writes back what changed and removes /lib/modules if it made it and it is still empty.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from testbeds.kindcluster import kind_settings as K

SYSCTL_TREES = ("kernel", "vm", "fs")
# Change on their own, or are per-namespace views.
VOLATILE = ("kernel/ns_last_pid", "kernel/random/", "kernel/hostname", "kernel/domainname", "fs/binfmt_misc/")
LIB_MODULES = Path("/lib/modules")


def record_path() -> Path:
    return K.STATE_ROOT / "host-before.json"


def read_sysctls(root: Path = Path("/proc/sys")) -> dict[str, str]:
    found: dict[str, str] = {}
    for tree in SYSCTL_TREES:
        for dirpath, _, files in os.walk(root / tree):
            for name in files:
                path = Path(dirpath) / name
                key = str(path.relative_to(root))
                if any(key.startswith(v) for v in VOLATILE):
                    continue
                try:
                    if not path.stat().st_mode & 0o200:
                        continue
                    found[key] = path.read_text()
                except OSError:
                    continue
    return found


class Record(TypedDict):
    """What record_once() wrote: the sysctls before `up`, and the paths it created."""
    sysctls: dict[str, str]
    created: list[str]


def changed(before: dict[str, str], now: dict[str, str]) -> dict[str, str]:
    """Pure: the keys whose value differs now, with the value to write back."""
    return {k: v for k, v in before.items() if k in now and now[k] != v}


def record_once() -> None:
    if record_path().exists():
        return
    created: list[str] = []
    if not LIB_MODULES.exists():
        LIB_MODULES.mkdir(parents=True)
        created.append(str(LIB_MODULES))
    record_path().parent.mkdir(parents=True, exist_ok=True)
    record: Record = {"sysctls": read_sysctls(), "created": created}
    record_path().write_text(json.dumps(record))


def restore(skip: tuple[str, ...], say: Callable[[str], None]) -> list[str]:
    """Write back changed sysctls (but not `skip`), remove what we created; return problems."""
    try:
        before: Record = json.loads(record_path().read_text())
    except (OSError, ValueError):
        return []
    problems = []
    for key, value in changed(before["sysctls"], read_sysctls()).items():
        if key in skip:
            say(f"left sysctl {key.replace('/', '.')} as it is: the local cluster's kubelet sets it too")
            continue
        try:
            Path("/proc/sys", key).write_text(value)
            say(f"restored sysctl {key.replace('/', '.')} = {value.strip()}")
        except OSError as e:
            problems.append(f"sysctl {key}: {e.strerror}")
    for path in before.get("created", []):
        try:
            os.rmdir(path)
        except OSError as e:
            problems.append(f"{path}: {e.strerror}")
    return problems

#!/usr/bin/env python3
"""A runc wrapper for hosts whose root lacks CAP_SYS_RESOURCE (dockerd --add-runtime).

kind's nodes are privileged containers: docker asks runc for every capability, and
runc fails ("unable to apply caps: operation not permitted") when one of them is not
in its own bounding set.  On `create`/`run` this removes the capabilities the
process itself does not hold from `<bundle>/config.json` (and a negative
`process.oomScoreAdj`, which needs CAP_SYS_RESOURCE too); on `exec` it does the same
to the `--process` file; then it execs the real runc with the same arguments.
`up` registers it only when the capability is missing (kindcluster's dockerd.py).
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any

RUNC = os.environ.get("PODNET_REAL_RUNC", "/usr/sbin/runc")
CAP_NAMES = (
    "CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID CAP_SETUID "
    "CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN CAP_NET_RAW "
    "CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE CAP_SYS_PACCT "
    "CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME CAP_SYS_TTY_CONFIG CAP_MKNOD "
    "CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG "
    "CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE"
).split()


def missing_capabilities(cap_bnd_hex: str) -> set[str]:
    """Pure: the named capabilities absent from a CapBnd mask (/proc/self/status)."""
    mask = int(cap_bnd_hex, 16)
    return {name for bit, name in enumerate(CAP_NAMES) if not mask >> bit & 1}


def strip_process(process: dict[str, Any], missing: set[str]) -> bool:
    """Pure (mutates `process`): drop what runc could not grant; True when something changed."""
    changed = False
    for kind, caps in (process.get("capabilities") or {}).items():
        kept = [c for c in caps if c not in missing]
        if kept != caps:
            process["capabilities"][kind] = kept
            changed = True
    if "CAP_SYS_RESOURCE" in missing and (process.get("oomScoreAdj") or 0) < 0:
        del process["oomScoreAdj"]
        changed = True
    return changed


def option_value(argv: list[str], *names: str) -> str | None:
    for i, arg in enumerate(argv):
        for name in names:
            if arg == name and i + 1 < len(argv):
                return argv[i + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _rewrite(path: str, key: str | None, missing: set[str]) -> None:
    with open(path) as f:
        doc = json.load(f)
    process = doc.get(key, {}) if key else doc
    if strip_process(process, missing):
        with open(path, "w") as f:
            json.dump(doc, f)


def main(argv: list[str]) -> None:
    with open("/proc/self/status") as f:
        cap_bnd = next(line.split()[1] for line in f if line.startswith("CapBnd:"))
    missing = missing_capabilities(cap_bnd)
    words = [a for a in argv if not a.startswith("-")]
    if missing and words:
        if "create" in words or "run" in words:
            bundle = option_value(argv, "--bundle", "-b") or os.getcwd()
            _rewrite(os.path.join(bundle, "config.json"), "process", missing)
        elif "exec" in words:
            process_file = option_value(argv, "--process", "-p")
            if process_file:
                _rewrite(process_file, None, missing)
    os.execv(RUNC, [RUNC, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])

"""Root filesystems made with mmdebstrap from the machine's own apt sources and release
(Debian bookworm here, Ubuntu on GitHub's runners), as tars: no host is named here.

The same package versions give the same root filesystem, byte for byte (SOURCE_DATE_EPOCH=0,
which mmdebstrap honours); docs, man pages and locales are left out.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

DOC_EXCLUDES = ("--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
                "--dpkgopt=path-exclude=/usr/share/locale/*")


def apt_sources() -> list[str]:
    """The machine's own apt sources, handed to mmdebstrap as files."""
    found = sorted(str(p) for p in Path("/etc/apt/sources.list.d").glob("*.sources"))
    found += sorted(str(p) for p in Path("/etc/apt/sources.list.d").glob("*.list"))
    if Path("/etc/apt/sources.list").is_file() and Path("/etc/apt/sources.list").stat().st_size:
        found.insert(0, "/etc/apt/sources.list")
    return found


def host_suite(os_release: str | None = None) -> str:
    """The machine's own release codename (bookworm here, noble on GitHub's Ubuntu runners):
    mmdebstrap builds from the machine's apt sources, which only serve their own suite."""
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text()
        except OSError:
            return "bookworm"
    for line in os_release.splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"') or "bookworm"
    return "bookworm"


def rootfs_tar(variant: str, packages: tuple[str, ...], out: Path) -> Path:
    """`mmdebstrap --variant=VARIANT --include=PACKAGES` of the host's suite into the tar `out`
    (written beside it first, so a cut-off build never passes for a cached one)."""
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial.tar")
    argv = ["nice", "-n", "10", "mmdebstrap", "--quiet", f"--variant={variant}", "--include=" + ",".join(packages),
            *DOC_EXCLUDES, host_suite(), str(tmp), *apt_sources()]
    subprocess.run(argv, check=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"))
    tmp.rename(out)
    return out

"""The cluster's images, made on this machine and never pulled.

- pause: pause.c built static with gcc (the sandbox image containerd starts per pod)
- busybox: Debian's busybox-static with one symlink per applet (serves with
  httpd / nc, connects with wget / nc)
- python: a Debian root filesystem with python3 made by mmdebstrap from the
  machine's own apt sources (the podnet agent only needs python3 >= 3.11)
Each is written as an OCI layout tarball (testbeds.common.oci) and cached per version.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from testbeds.common import mmdebstrap, oci
from testbeds.localcluster import settings as S

PAUSE_C = Path(__file__).resolve().parent / "pause.c"


def archive_path(ref: str) -> Path:
    return S.image_dir() / oci.archive_name(ref)


def pause_binary(work: Path) -> Path:
    """pause.c, static and stripped, in `work` (the kind cluster's pause image uses it too)."""
    binary = work / "pause"
    if not binary.exists():
        subprocess.run(["gcc", "-Os", "-static", "-Wall", "-o", str(binary), str(PAUSE_C)], check=True)
        subprocess.run(["strip", str(binary)], check=True)
    return binary


def build_pause(work: Path) -> Path:
    layer = oci.tar_from_files(work / "pause-layer.tar", [("pause", pause_binary(work), None, 0o755)])
    spec = oci.ImageSpec(name=S.PAUSE_IMAGE, layers=(layer,), entrypoint=("/pause",), env=())
    return oci.build_archive(spec, archive_path(S.PAUSE_IMAGE))


def busybox_entries(busybox: Path, applets: list[str]) -> list[tuple[str, Path | None, str | None, int]]:
    """Pure: the busybox layer's entries (dirs, the binary, an applet symlink each)."""
    entries: list[tuple[str, Path | None, str | None, int]] = [
        (d, None, None, 0o755) for d in ("bin", "etc", "www", "var", "root")
    ]
    entries.append(("tmp", None, None, 0o1777))
    entries.append(("bin/busybox", busybox, None, 0o755))
    entries += [(f"bin/{a}", None, "busybox", 0o777) for a in sorted(set(applets)) if a != "busybox"]
    return entries


def build_busybox(work: Path) -> Path:
    busybox = Path("/bin/busybox")
    applets = [Path(a).name for a in subprocess.run(
        [str(busybox), "--list"], check=True, capture_output=True, text=True).stdout.split()]
    etc = work / "etc"
    etc.mkdir()
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (etc / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    (etc / "index.html").write_text("podnet-ok\n")
    entries = busybox_entries(busybox, applets)
    entries += [("etc/passwd", etc / "passwd", None, 0o644), ("etc/group", etc / "group", None, 0o644),
                ("www/index.html", etc / "index.html", None, 0o644)]
    layer = oci.tar_from_files(work / "busybox-layer.tar", entries)
    spec = oci.ImageSpec(name=S.BUSYBOX_IMAGE, layers=(layer,), cmd=("sh",),
                         env=("PATH=/bin",))
    return oci.build_archive(spec, archive_path(S.BUSYBOX_IMAGE))


def build_python(work: Path) -> Path:
    rootfs = mmdebstrap.rootfs_tar("essential", ("python3",), work / "python-rootfs.tar")
    spec = oci.ImageSpec(name=S.PYTHON_IMAGE, layers=(rootfs,), cmd=("python3",))
    return oci.build_archive(spec, archive_path(S.PYTHON_IMAGE))


BUILDERS = {S.PAUSE_IMAGE: build_pause, S.BUSYBOX_IMAGE: build_busybox, S.PYTHON_IMAGE: build_python}


def ensure_images(log: Callable[[str], object] = print) -> list[Path]:
    """Build every image archive that is not cached yet; return all archive paths."""
    out = []
    for ref, build in BUILDERS.items():
        path = archive_path(ref)
        if not path.exists():
            log(f"building image {ref}")
            work = Path(tempfile.mkdtemp(prefix="lc-image-"))
            try:
                build(work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        out.append(path)
    return out

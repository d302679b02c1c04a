"""A small OCI image-layout builder: layer tarballs + a config -> one .tar.

containerd's `ctr images import` reads an OCI layout archive and names the
image from the `io.containerd.image.name` annotation, so images made here are
imported by name and never pulled.  Layers stay uncompressed: they are imported
once per `up` on the same machine, and gzip would cost more time than it saves.

Reproducible: every tar entry we write has mtime 0 (layers from tar_from_files, and
the layout's own files), JSON is written with sorted keys, so the same inputs give
the same digests.  The platform is the machine's (amd64, arm64), never assumed.
"""
from __future__ import annotations

import hashlib
import io
import json
import platform
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar"


class Descriptor(TypedDict):
    """An OCI content descriptor (of a layer, here)."""
    mediaType: str
    digest: str
    size: int


@dataclass(frozen=True)
class ImageSpec:
    name: str  # full reference with an explicit tag, e.g. localhost/podnet/pause:3.10
    layers: tuple[Path, ...]  # uncompressed tar files, bottom first
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
    workdir: str = "/"
    labels: dict[str, str] = field(default_factory=dict)


def _sha256_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return "sha256:" + h.hexdigest(), size


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le", "s390x": "s390x"}


def go_arch(machine: str | None = None) -> str:
    """The OCI/Go name of this machine's architecture (`uname -m` x86_64 -> amd64)."""
    machine = machine or platform.machine()
    return GOARCH.get(machine, machine)


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    """A regular file under `name`, owned by root, mode 0644, mtime 0 (not the source's)."""
    info = tarfile.TarInfo(name)
    info.size = path.stat().st_size
    info.mtime = 0
    info.mode = 0o644
    with open(path, "rb") as f:
        tar.addfile(info, f)


def image_config(spec: ImageSpec, diff_ids: list[str]) -> dict[str, object]:
    cfg: dict[str, object] = {"Env": list(spec.env), "WorkingDir": spec.workdir}
    if spec.entrypoint:
        cfg["Entrypoint"] = list(spec.entrypoint)
    if spec.cmd:
        cfg["Cmd"] = list(spec.cmd)
    if spec.labels:
        cfg["Labels"] = dict(spec.labels)
    return {
        "architecture": go_arch(),
        "os": "linux",
        "config": cfg,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "testbeds/common/oci.py"} for _ in diff_ids],
    }


def archive_name(ref: str) -> str:
    """Pure: the cache file name of an image archive (`localhost/podnet/pause:3.10` -> pause_3.10.oci.tar)."""
    return ref.rsplit("/", 1)[1].replace(":", "_") + ".oci.tar"


def build_archive(spec: ImageSpec, out: Path) -> Path:
    """Write an OCI layout tar for `spec` to `out` (atomically) and return it."""
    layer_descs: list[tuple[Path, Descriptor]] = []
    for layer in spec.layers:
        digest, size = _sha256_file(layer)
        layer_descs.append((layer, {"mediaType": MEDIA_LAYER, "digest": digest, "size": size}))
    diff_ids = [d["digest"] for _, d in layer_descs]  # uncompressed: digest == diff_id
    cfg_digest, cfg_bytes = _blob(json.dumps(image_config(spec, diff_ids), sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_MANIFEST,
        "config": {"mediaType": MEDIA_CONFIG, "digest": cfg_digest, "size": len(cfg_bytes)},
        "layers": [d for _, d in layer_descs],
    }
    man_digest, man_bytes = _blob(json.dumps(manifest, sort_keys=True).encode())
    index = {
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": MEDIA_MANIFEST,
            "digest": man_digest,
            "size": len(man_bytes),
            "platform": {"architecture": go_arch(), "os": "linux"},
            "annotations": {
                "io.containerd.image.name": spec.name,
                "org.opencontainers.image.ref.name": spec.name.rsplit(":", 1)[1],
            },
        }],
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add_bytes(tar, "index.json", json.dumps(index, sort_keys=True).encode())
        _add_bytes(tar, "blobs/sha256/" + cfg_digest.split(":")[1], cfg_bytes)
        _add_bytes(tar, "blobs/sha256/" + man_digest.split(":")[1], man_bytes)
        for path, desc in layer_descs:
            add_file(tar, "blobs/sha256/" + desc["digest"].split(":")[1], path)
    tmp.rename(out)
    return out


def tar_from_files(out: Path, entries: list[tuple[str, Path | None, str | None, int]]) -> Path:
    """Make a layer tar from (path-in-image, source-file|None, symlink-target|None, mode).

    A None source with no link target makes a directory.  Owners are root.
    """
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for arcname, src, link, mode in entries:
            info = tarfile.TarInfo(arcname.lstrip("/"))
            info.mtime = 0
            info.mode = mode
            if link is not None:
                info.type = tarfile.SYMTYPE
                info.linkname = link
                tar.addfile(info)
            elif src is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                data = src.read_bytes()
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return out

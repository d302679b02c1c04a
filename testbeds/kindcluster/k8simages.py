"""The images `kubeadm config images list` names, built here and never pulled.

Their names are read from kubeadm at build time (never typed, so no registry host is
written anywhere): kube-apiserver, kube-controller-manager, kube-scheduler and
kube-proxy from the release's own binaries; etcd and CoreDNS built from Go modules at
the versions in the tags kubeadm prints; pause from the local cluster's pause.c.
Each is an OCI layout archive (testbeds.common.oci), imported into the node image's
containerd under exactly the name kubeadm uses.
"""
from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO, TypedDict

from testbeds.kindcluster import components, rootfs
from testbeds.kindcluster import kind_settings as K
from testbeds.common import oci
from testbeds.localcluster import images as LCI
from testbeds.localcluster import settings as LC

# kubeadm runs the control plane and kube-proxy by command name from PATH
BIN_PATH_ENV = ("PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",)


def parse_image_list(text: str) -> dict[str, str]:
    """Pure: `kubeadm config images list` output -> {component: full reference}."""
    found: dict[str, str] = {}
    for line in text.split():
        ref = line.strip()
        m = re.fullmatch(r"(?:[^/]+/)*([a-z0-9-]+):([\w.-]+)", ref)
        if m:
            found[m.group(1)] = ref
    want = {"kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "etcd", "coredns", "pause"}
    if not want <= set(found):
        raise ValueError(f"kubeadm config images list lacks {sorted(want - set(found))}: {text!r}")
    return found


def go_version_of(ref: str) -> str:
    """Pure: the Go module version behind an image tag (etcd `3.6.5-0` -> v3.6.5, coredns `v1.12.1`)."""
    tag = ref.rsplit(":", 1)[1]
    tag = re.sub(r"-\d+$", "", tag)
    return tag if tag.startswith("v") else "v" + tag


def kubeadm_images() -> dict[str, str]:
    kubeadm = components.bin_dir() / "kubeadm"
    out = subprocess.run([str(kubeadm), "config", "images", "list", "--kubernetes-version", K.K8S_VERSION],
                         check=True, capture_output=True, text=True).stdout
    return parse_image_list(out)


def archive_dir() -> Path:
    return K.cache_dir() / "images"


def archive_path(ref: str) -> Path:
    return archive_dir() / oci.archive_name(ref)


def _binary_layer(work: Path, name: str, entries: list[tuple[str, Path]]) -> Path:
    dirs = sorted({str(Path(p).parent) for p, _ in entries} - {"."})
    files: list[tuple[str, Path | None, str | None, int]] = []
    for d in dirs:
        parts = Path(d).parts
        files += [("/".join(parts[:i]), None, None, 0o755) for i in range(1, len(parts) + 1)]
    files = list(dict.fromkeys(files))  # a directory shared by two entries once (first place kept)
    files.append(("tmp", None, None, 0o1777))
    files += [(p, src, None, 0o755) for p, src in entries]
    return oci.tar_from_files(work / f"{name}-layer.tar", files)


class ImageOpts(TypedDict, total=False):
    env: tuple[str, ...]
    base: Callable[[], Path]  # builds (or finds cached) the base layer
    entrypoint: tuple[str, ...]


def build_all(log: TextIO, say: Callable[[str], None]) -> dict[str, Path]:
    """Every image kubeadm names (plus flannel's), built when not cached; {reference: archive}."""
    refs = kubeadm_images()
    lcbin = gobuild_bin()
    etcd = components.build_etcd(go_version_of(refs["etcd"]), log)
    coredns = components.build_coredns(go_version_of(refs["coredns"]), log)
    components.build_flannel(log)
    plan: dict[str, tuple[tuple[tuple[str, Path], ...], ImageOpts]] = {}
    out: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="kind-images-", dir=K.cache_dir()) as tmp:
        work = Path(tmp)
        for comp in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
            plan[refs[comp]] = ((("usr/local/bin/" + comp, lcbin / comp),), {"env": BIN_PATH_ENV})
        plan[refs["kube-proxy"]] = ((("usr/local/bin/kube-proxy", components.bin_dir() / "kube-proxy"),),
                                    {"env": BIN_PATH_ENV, "base": rootfs.iptables_base})
        plan[refs["etcd"]] = ((("usr/local/bin/etcd", etcd),), {"env": BIN_PATH_ENV})
        plan[refs["coredns"]] = ((("coredns", coredns),), {"entrypoint": ("/coredns",)})
        plan[refs["pause"]] = ((("pause", LCI.pause_binary(work)),), {"entrypoint": ("/pause",)})
        plan[K.FLANNEL_IMAGE] = ((("opt/bin/flanneld", components.flanneld_binary()),
                                  ("flannel", components.flannel_cni_binary())),
                                 {"env": BIN_PATH_ENV, "base": rootfs.iptables_base,
                                  "entrypoint": ("/opt/bin/flanneld",)})
        for ref, (entries, opts) in plan.items():
            path = archive_path(ref)
            out[ref] = path
            if path.exists():
                continue
            say(f"building image {ref.rsplit('/', 1)[1]}")
            layers: tuple[Path, ...] = (_binary_layer(work, Path(entries[0][0]).name, list(entries)),)
            if "base" in opts:
                layers = (opts["base"](),) + layers
            spec = oci.ImageSpec(name=ref, layers=layers, entrypoint=opts.get("entrypoint", ()),
                                 env=opts.get("env", oci.ImageSpec.env))
            oci.build_archive(spec, path)
    return out


def gobuild_bin() -> Path:
    return LC.bin_dir()


if __name__ == "__main__":
    import sys
    with components.open_log() as log:
        for ref, path in build_all(log, print).items():
            print(ref.rsplit("/", 1)[1], path, path.stat().st_size // 2**20, "MiB")
    sys.exit(0)

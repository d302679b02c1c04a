"""The kind node image, built here to kind's node-image contract (nothing pulled).

kind's `build node-image` fetches images from a registry, so this does what it does
by other means: kind's own base image files (images/base/files, read from the kind
module in the Go module cache, never copied into this repository) over a Debian root
filesystem with systemd, containerd, runc and the CNI plugins (rootfs.py), the
release's kubeadm/kubelet/kubectl in /usr/bin, crictl, /kind/version, and every image
`kubeadm config images list` names imported into the node's containerd (namespace
k8s.io) with the node's own containerd, so the node's content store is what its
containerd will read.  The result is a docker archive, cached per release and recipe
revision, loaded into our dockerd by `up`.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from testbeds.kindcluster import components, k8simages, rootfs
from testbeds.kindcluster import kind_settings as K
from testbeds.common import oci
from testbeds.localcluster import gobuild
from testbeds.localcluster import settings as LC

HERE = Path(__file__).resolve().parent
# Bump when the recipe changes: the cached archive's name carries it.
REVISION = 2
ENTRYPOINT = ("/usr/local/bin/podnet-node-prep", "/usr/local/bin/entrypoint", "/sbin/init")
ENV = ("container=docker", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
# from kind's Dockerfile: units a node container must not start
REMOVE_GLOBS = ("lib/systemd/system/multi-user.target.wants/*", "etc/systemd/system/*.wants/*",
                "lib/systemd/system/local-fs.target.wants/*", "lib/systemd/system/sockets.target.wants/*udev*",
                "lib/systemd/system/sockets.target.wants/*initctl*", "lib/systemd/system/basic.target.wants/*",
                "lib/systemd/system/sysinit.target.wants/systemd-tmpfiles-setup.service")


def archive_path() -> Path:
    return K.cache_dir() / "images" / f"kind-node-r{REVISION}.docker.tar"


def kind_module_dir() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([LC.GO, "mod", "download", "-json", f"sigs.k8s.io/kind@{K.KIND_VERSION}"],
                             cwd=tmp, env=gobuild.go_env(), check=True, capture_output=True, text=True).stdout
    return Path(json.loads(out)["Dir"])


def patch_containerd_config(text: str, sandbox_image: str) -> str:
    """Pure: kind's containerd config with the sandbox image kubeadm names (kind's build does the same)."""
    lines = []
    replaced = False
    for line in text.splitlines():
        if line.strip().startswith("sandbox_image"):
            line = line.split("sandbox_image")[0] + f'sandbox_image = "{sandbox_image}"'
            replaced = True
        lines.append(line)
    if not replaced:
        raise ValueError("kind's containerd config has no sandbox_image line")
    return "\n".join(lines) + "\n"


def cri_base_spec(default_spec: dict[str, Any]) -> dict[str, Any]:
    """Pure: kind's cri-base.json from `ctr oci spec`: a createContainer hook mounting the
    product files, and no rlimits."""
    spec: dict[str, Any] = json.loads(json.dumps(default_spec))  # a deep copy
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append({"path": "/kind/bin/mount-product-files.sh"})
    spec.get("process", {}).pop("rlimits", None)
    return spec


def _copy_tree(src: Path, dst: Path, mode: int | None) -> None:
    for path in sorted(src.rglob("*")):
        target = dst / path.relative_to(src)
        if path.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            target.chmod(0o755)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            target.chmod(mode if mode is not None else 0o644)


def apply_kind_base(root: Path, files: Path, sandbox_image: str) -> None:
    """What kind's images/base/Dockerfile does, on our root filesystem."""
    _copy_tree(files / "usr/local/bin", root / "usr/local/bin", 0o755)
    _copy_tree(files / "kind", root / "kind", 0o644)
    _copy_tree(files / "kind/bin", root / "kind/bin", 0o755)
    _copy_tree(files / "LICENSES", root / "LICENSES", 0o644)
    _copy_tree(files / "etc", root / "etc", 0o644)
    conf = root / "etc/containerd/config.toml"
    conf.write_text(patch_containerd_config(conf.read_text(), sandbox_image))
    for pattern in REMOVE_GLOBS:
        for p in root.glob(pattern):
            if p.is_symlink() or p.is_file():
                p.unlink()
    with open(root / "etc/systemd/journald.conf", "a") as f:
        f.write("ReadKMsg=no\n")
    init = root / "sbin/init"
    if init.is_symlink() or init.exists():
        init.unlink()
    init.symlink_to("/usr/lib/systemd/systemd")
    # kind's units start /usr/local/bin/containerd; ours is Debian's
    (root / "usr/local/bin/containerd").symlink_to("/usr/bin/containerd")
    (root / "etc/kubernetes/manifests").mkdir(parents=True, exist_ok=True)
    subprocess.run(["systemctl", f"--root={root}", "enable", "kubelet.service", "containerd.service",
                    "undo-mount-hacks.service"], check=True, capture_output=True)
    subprocess.run(["systemctl", f"--root={root}", "mask", "systemd-binfmt.service"], check=True, capture_output=True)
    spec = json.loads(subprocess.run(["chroot", str(root), "ctr", "oci", "spec"], check=True,
                                     capture_output=True, text=True).stdout)
    (root / "etc/containerd/cri-base.json").write_text(json.dumps(cri_base_spec(spec), indent=2) + "\n")
    cni = root / "opt/cni/bin"
    cni.mkdir(parents=True, exist_ok=True)
    for plugin in sorted((root / "usr/lib/cni").iterdir()):
        (cni / plugin.name).symlink_to(f"/usr/lib/cni/{plugin.name}")


def install_kubernetes(root: Path) -> None:
    for name, src in (("kubeadm", components.bin_dir() / "kubeadm"), ("kubelet", LC.bin_dir() / "kubelet"),
                      ("kubectl", LC.bin_dir() / "kubectl")):
        shutil.copyfile(src, root / "usr/bin" / name)
        (root / "usr/bin" / name).chmod(0o755)
    shutil.copyfile(LC.bin_dir() / "crictl", root / "usr/local/bin/crictl")
    (root / "usr/local/bin/crictl").chmod(0o755)
    shutil.copyfile(HERE / "node-prep.sh", root / "usr/local/bin/podnet-node-prep")
    (root / "usr/local/bin/podnet-node-prep").chmod(0o755)
    (root / "kind/version").write_text(K.K8S_VERSION)


PRELOAD_SCRIPT = """set -eu
mount -t proc proc /proc
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
cat > /run/preload.toml <<TOML
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "/run/preload.sock"
TOML
containerd --config /run/preload.toml >/run/containerd.log 2>&1 &
pid=$!
for i in $(seq 100); do [ -S /run/preload.sock ] && break; sleep 0.1; done
for archive in /podnet-preload/*.tar; do
  ctr --address /run/preload.sock --namespace k8s.io images import --snapshotter overlayfs "$archive"
done
ctr --address /run/preload.sock --namespace k8s.io images ls -q
kill $pid; wait $pid || true
"""


def preload_images(root: Path, archives: list[Path]) -> list[str]:
    """Import the archives with the node's own containerd, chrooted into the root filesystem
    in a mount namespace of its own (its /proc, /run and overlay mounts vanish with it)."""
    stage = root / "podnet-preload"
    stage.mkdir()
    try:
        for a in archives:
            os.link(a, stage / a.name) if a.stat().st_dev == stage.stat().st_dev else shutil.copyfile(a, stage / a.name)
        out = subprocess.run(["unshare", "--mount", "--propagation", "private", "--fork", "chroot", str(root),
                              "/bin/sh", "-c", PRELOAD_SCRIPT], check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"preloading images failed: {e.stderr[-1500:]}") from e
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [line for line in out.stdout.split() if ":" in line]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def image_config(diff_id: str) -> dict[str, Any]:
    return {
        "architecture": oci.go_arch(), "os": "linux",
        "config": {"Env": list(ENV), "Entrypoint": list(ENTRYPOINT), "StopSignal": "SIGRTMIN+3"},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "testbeds/kindcluster/nodeimage.py"}],
    }


def write_docker_archive(layer: Path, name: str, out: Path) -> Path:
    """A `docker save` style archive (docker 20.10's `docker load` reads no OCI layout)."""
    diff_id = _sha256(layer)
    config = json.dumps(image_config(diff_id), sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    layer_name = diff_id.split(":")[1] + "/layer.tar"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [name], "Layers": [layer_name]}]).encode()
    tmp = out.with_suffix(".partial")
    with tarfile.open(tmp, "w") as tar:
        for arcname, data in ((config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
        oci.add_file(tar, layer_name, layer)
    tmp.rename(out)
    return out


def build(log: TextIO, say: Callable[[str], None]) -> Path:
    out = archive_path()
    if out.exists():
        return out
    t0 = time.monotonic()
    images = k8simages.build_all(log, say)
    refs = k8simages.kubeadm_images()
    base = rootfs.node_base()
    files = kind_module_dir() / "images/base/files"
    work = Path(tempfile.mkdtemp(prefix="kind-node-", dir=K.cache_dir()))
    try:
        root = work / "rootfs"
        root.mkdir()
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-xpf", str(base), "-C", str(root)],
                       check=True)
        apply_kind_base(root, files, refs["pause"])
        install_kubernetes(root)
        kubeadm_refs = [r for r in refs.values()]
        loaded = preload_images(root, [images[r] for r in kubeadm_refs])
        missing = set(kubeadm_refs) - set(loaded)
        if missing:
            raise RuntimeError(f"node image: not in the node's containerd after import: {sorted(missing)}")
        say(f"node image: {len(loaded)} images preloaded into the node's containerd (k8s.io)")
        layer = work / "layer.tar"
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-cf", str(layer),
                        "-C", str(root), "."], check=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_docker_archive(layer, K.NODE_IMAGE, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"node image {K.NODE_IMAGE} built in {time.monotonic() - t0:.0f}s ({out.stat().st_size >> 20} MiB)")
    return out

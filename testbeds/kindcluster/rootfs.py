"""Root filesystems made with mmdebstrap from the machine's own apt sources and release
(Debian bookworm here, Ubuntu on GitHub's runners), cached as tars.

- the node's: what kind's base image installs (images/base/Dockerfile in the kind module),
  with Debian's containerd, runc and CNI plugins instead of ones downloaded from release pages;
- the one kube-proxy and flanneld run on: iptables (nft backend, as Debian and the node
  default to) and conntrack.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from testbeds.kindcluster import kind_settings as K
from testbeds.localcluster import images as LCI  # the machine's apt sources

SUITE = LCI.host_suite()
# kind's base image list (systemd, conntrack iptables nftables iproute2 ethtool util-linux mount
# kmod libseccomp2 pigz, bash ca-certificates procps) + containerd/runc/CNI plugins from Debian.
# (jq: kind's mount-product-files.sh hook runs for every container.)
# Left out: fuse-overlayfs (rootless only), nfs-common, open-iscsi, e2fsprogs, curl.
NODE_PACKAGES = ("systemd", "dbus", "conntrack", "iptables", "nftables", "iproute2", "ethtool", "util-linux",
                 "mount", "kmod", "libseccomp2", "pigz", "bash", "ca-certificates", "procps", "jq",
                 "containerd", "runc", "containernetworking-plugins")
IPTABLES_PACKAGES = ("iptables", "conntrack")

_DOC_EXCLUDES = ("--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
                 "--dpkgopt=path-exclude=/usr/share/locale/*")


def rootfs_dir() -> Path:
    return K.cache_dir() / "rootfs"


def _mmdebstrap(variant: str, packages: tuple[str, ...], out: Path) -> Path:
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial.tar")
    argv = ["nice", "-n", "10", "mmdebstrap", "--quiet", f"--variant={variant}",
            "--include=" + ",".join(packages), *_DOC_EXCLUDES, SUITE, str(tmp), *LCI._apt_sources()]
    subprocess.run(argv, check=True, env=dict(os.environ, SOURCE_DATE_EPOCH="0"))  # reproducible
    tmp.rename(out)
    return out


def node_base() -> Path:
    return _mmdebstrap("minbase", NODE_PACKAGES, rootfs_dir() / f"node-{SUITE}.tar")


def iptables_base() -> Path:
    return _mmdebstrap("essential", IPTABLES_PACKAGES, rootfs_dir() / f"iptables-{SUITE}.tar")


if __name__ == "__main__":
    print(node_base(), iptables_base())

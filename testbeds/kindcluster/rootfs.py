"""Root filesystems made with mmdebstrap from the machine's own apt sources and release
(Debian bookworm here, Ubuntu on GitHub's runners), cached as tars.

- the node's: what kind's base image installs (images/base/Dockerfile in the kind module),
  with Debian's containerd, runc and CNI plugins instead of ones downloaded from release pages;
- the one kube-proxy and flanneld run on: iptables (nft backend, as Debian and the node
  default to) and conntrack.
"""
from __future__ import annotations

from pathlib import Path

from testbeds.common import mmdebstrap
from testbeds.kindcluster import kind_settings as K

SUITE = mmdebstrap.host_suite()
# kind's base image list (systemd, conntrack iptables nftables iproute2 ethtool util-linux mount
# kmod libseccomp2 pigz, bash ca-certificates procps) + containerd/runc/CNI plugins from Debian.
# (jq: kind's mount-product-files.sh hook runs for every container.)
# Left out: fuse-overlayfs (rootless only), nfs-common, open-iscsi, e2fsprogs, curl.
NODE_PACKAGES = ("systemd", "dbus", "conntrack", "iptables", "nftables", "iproute2", "ethtool", "util-linux",
                 "mount", "kmod", "libseccomp2", "pigz", "bash", "ca-certificates", "procps", "jq",
                 "containerd", "runc", "containernetworking-plugins")
IPTABLES_PACKAGES = ("iptables", "conntrack")


def rootfs_dir() -> Path:
    return K.cache_dir() / "rootfs"


def node_base() -> Path:
    return mmdebstrap.rootfs_tar("minbase", NODE_PACKAGES, rootfs_dir() / f"node-{SUITE}.tar")


def iptables_base() -> Path:
    return mmdebstrap.rootfs_tar("essential", IPTABLES_PACKAGES, rootfs_dir() / f"iptables-{SUITE}.tar")


if __name__ == "__main__":
    print(node_base(), iptables_base())

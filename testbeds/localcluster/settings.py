"""Pinned versions and the fixed places this tool owns on the machine.

Everything the cluster creates lives under these roots, so `down` can remove
exactly what `up` made and nothing else.
"""
from __future__ import annotations

import os
from pathlib import Path

# Kubernetes 1.34: the newest minor that still runs on a cgroup v1 (hybrid) host
# without opting out (1.35 refuses cgroup v1 unless failCgroupV1: false); its
# go.mod asks for go 1.24, which the machine's newer Go builds.
K8S_VERSION = os.environ.get("LOCALCLUSTER_K8S_VERSION", "v1.34.4")
ETCD_VERSION = os.environ.get("LOCALCLUSTER_ETCD_VERSION", "v3.5.21")

NODE_NAME = "podnet-node"
CLUSTER_NAME = "podnet-local"

CACHE_ROOT = Path(os.environ.get("LOCALCLUSTER_CACHE", "/var/cache/podnet-localcluster"))
STATE_ROOT = Path("/var/lib/podnet-localcluster")
RUN_ROOT = Path("/run/podnet-localcluster")

APISERVER_PORT = 6443
ETCD_CLIENT_PORT = 23790
ETCD_PEER_PORT = 23800
SERVICE_CIDR = "10.96.0.0/16"
FIRST_SERVICE_IP = "10.96.0.1"
POD_CIDR = "10.244.0.0/24"
CNI_BRIDGE = "cni0"

PAUSE_IMAGE = "localhost/podnet/pause:3.10"
PYTHON_IMAGE = "localhost/podnet/python:3.11-bookworm"
BUSYBOX_IMAGE = "localhost/podnet/busybox:1.35"

def _find_go() -> str:
    import shutil
    if os.environ.get("LOCALCLUSTER_GO"):
        return os.environ["LOCALCLUSTER_GO"]
    if os.path.exists("/usr/local/go/bin/go"):
        return "/usr/local/go/bin/go"
    return shutil.which("go") or "/usr/local/go/bin/go"


# Go >= 1.24 (k8s 1.34's go.mod); an older go with GOTOOLCHAIN=auto fetches the one it needs.
GO = _find_go()

K8S_COMMANDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl")


def cache_dir() -> Path:
    return CACHE_ROOT / K8S_VERSION


def bin_dir() -> Path:
    return cache_dir() / "bin"


def image_dir() -> Path:
    return cache_dir() / "images"


def build_log_dir() -> Path:
    return cache_dir() / "logs"


def log_dir() -> Path:
    return STATE_ROOT / "logs"


def pki_dir() -> Path:
    return STATE_ROOT / "pki"

# The node's InternalIP.  The kubelet refuses a loopback node IP, so `up`
# creates a bridge with no ports (NODE_LINK) that holds this one /32 address:
# the API server reaches the kubelet there, and the traffic never leaves the host.
NODE_LINK = "lcnode0"
NODE_IP = "10.244.255.1"
POD_GATEWAY = "10.244.0.1"
SMOKE_NAMESPACE = "localcluster-smoke"

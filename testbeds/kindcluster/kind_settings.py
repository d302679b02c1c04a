"""Pinned versions and the places the kind cluster tool owns on this machine.

Everything lives under these roots and in one network namespace of its own, so
`down` can remove exactly what `up` made.  The Kubernetes release and the Go
build are the local cluster's (testbeds/localcluster/settings.py): one cache per version.
"""
from __future__ import annotations

import os
from pathlib import Path

from testbeds.localcluster import settings as LC  # the local cluster's versions, Go and images

HERE = Path(__file__).resolve().parent

K8S_VERSION = LC.K8S_VERSION
KIND_VERSION = os.environ.get("KINDCLUSTER_KIND_VERSION", "v0.33.0")
# flanneld, built without its Tencent Cloud backend (the proxy refuses that SDK: components.py);
# its CNI plugin (the `flannel` type) is not on the Go module proxy any
# more, the last release that carried it in containernetworking/plugins is v0.9.1.
FLANNEL_VERSION = os.environ.get("KINDCLUSTER_FLANNEL_VERSION", "v0.28.10")
FLANNEL_CNI_VERSION = "v0.9.1"
# the CNI plugins the node itself needs (bridge for flannel's delegate, host-local, loopback, portmap)
CNI_PLUGINS_VERSION = "v1.9.1"

CLUSTER_NAME = "podnet-kind"
KIND_CONFIG = HERE / "kind.yaml"
NODE_IMAGE = f"localhost/podnet/kind-node:{K8S_VERSION}"
FLANNEL_IMAGE = f"localhost/podnet/flannel:{FLANNEL_VERSION}"
POD_SUBNET = "10.244.0.0/16"

CACHE_ROOT = Path(os.environ.get("KINDCLUSTER_CACHE", "/var/cache/podnet-kind"))
STATE_ROOT = Path("/var/lib/podnet-kind")  # dockerd's data root, kubeconfig, logs
RUN_ROOT = Path("/run/podnet-kind")  # the netns pin, sockets, pidfiles, exec root
NETNS = RUN_ROOT / "netns"  # a bind mount of dockerd's network namespace
DOCKER_SOCK = RUN_ROOT / "docker.sock"
DOCKER_HOST = f"unix://{DOCKER_SOCK}"
CGROUP_PARENT = "podnet-kind"  # every node container's cgroup sits under /podnet-kind
RUNTIME_NAME = "podnet-runc"


def cache_dir() -> Path:
    return CACHE_ROOT / K8S_VERSION


def tools_dir() -> Path:
    """kind, and links to the docker and kubectl the tool runs: first on PATH for `run`."""
    return CACHE_ROOT / "tools" / KIND_VERSION


def kubeconfig_path() -> Path:
    return STATE_ROOT / "kubeconfig"


def log_dir() -> Path:
    return STATE_ROOT / "logs"

"""The agent's Kubernetes objects, built in code and printable (`agent install --print-only`).

`manifests/agent.yaml` in the repository is this module's output for the defaults, and a
test keeps the two equal. Every privilege below says why it is there.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubectl_podnet import __version__
from kubectl_podnet.node.procfs import NETNS_DIR

Obj = dict[str, Any]

DEFAULT_NAMESPACE = "podnet-system"
DEFAULT_IMAGE = "docker.io/library/python:3.12-slim"
AGENT_NAME = "podnet-agent"
CONTAINER = "agent"
CACHE_DIR = "/var/cache/podnet"
SPEC_HASH = "podnet.io/spec-hash"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubectl-podnet"}
SELECTOR = {"app.kubernetes.io/name": AGENT_NAME}
LABEL_SELECTOR = f"app.kubernetes.io/name={AGENT_NAME}"

# PID 1 of the agent: wait for work, leave at once on SIGTERM.
IDLE = (
    "import signal, sys\n"
    "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
    "while True:\n"
    "    signal.pause()\n"
)


def _labels() -> dict[str, str]:
    return {**SELECTOR, **MANAGED_BY, "app.kubernetes.io/version": __version__}


def agent_objects(namespace: str = DEFAULT_NAMESPACE, image: str = DEFAULT_IMAGE) -> list[Obj]:
    namespace_obj: Obj = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": namespace,
            "labels": {
                **MANAGED_BY,
                # hostPID, hostNetwork and privileged are forbidden by baseline
                "pod-security.kubernetes.io/enforce": "privileged",
            },
        },
    }
    service_account: Obj = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": AGENT_NAME, "namespace": namespace, "labels": _labels()},
        "automountServiceAccountToken": False,  # the agent never talks to the API server
    }
    daemonset: Obj = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": AGENT_NAME, "namespace": namespace, "labels": _labels()},
        "spec": {
            "selector": {"matchLabels": dict(SELECTOR)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}},
            "template": {
                "metadata": {"labels": _labels()},
                "spec": {
                    "serviceAccountName": AGENT_NAME,
                    "automountServiceAccountToken": False,
                    "hostPID": True,  # see every pod's processes, their cgroups and /proc/<pid>/ns/net
                    "hostNetwork": True,  # our own netns is the node's: host veth peers, bridges, routes
                    "dnsPolicy": "ClusterFirstWithHostNet",
                    "terminationGracePeriodSeconds": 1,
                    "nodeSelector": {"kubernetes.io/os": "linux"},
                    "tolerations": [{"operator": "Exists"}],  # every node, tainted or not
                    "containers": [
                        {
                            "name": CONTAINER,
                            "image": image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["python3", "-c", IDLE],
                            "securityContext": {
                                # setns(2) into a pod netns needs CAP_SYS_ADMIN and reading other
                                # containers' /proc/<pid>/ns needs CAP_SYS_PTRACE; privileged also
                                # lifts the seccomp/AppArmor profiles that block setns
                                "privileged": True,
                                "readOnlyRootFilesystem": True,
                            },
                            "resources": {
                                "requests": {"cpu": "10m", "memory": "32Mi"},
                                "limits": {"memory": "256Mi"},
                            },
                            "volumeMounts": [
                                # the agent code, sent once per version and kept by its hash
                                {"name": "cache", "mountPath": CACHE_DIR},
                                # netns pinned by the runtime (containerd cni-*, CRI-O pinns)
                                {
                                    "name": "netns",
                                    "mountPath": NETNS_DIR,
                                    "readOnly": True,
                                    "mountPropagation": "HostToContainer",  # see netns pinned after start
                                },
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "cache", "emptyDir": {"sizeLimit": "64Mi"}},
                        # /run, not /var/run: containerd checks the propagation of the path as
                        # written, and /var/run is a symlink. DirectoryOrCreate: a node that
                        # never pinned a netns still runs the agent.
                        {"name": "netns", "hostPath": {"path": NETNS_DIR, "type": "DirectoryOrCreate"}},
                    ],
                },
            },
        },
    }
    return [with_spec_hash(obj) for obj in (namespace_obj, service_account, daemonset)]


def with_spec_hash(obj: Obj) -> Obj:
    """`obj` annotated with a hash of itself: an update is due exactly when the hash differs."""
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
    annotated: Obj = json.loads(json.dumps(obj))
    annotated["metadata"].setdefault("annotations", {})[SPEC_HASH] = digest
    return annotated


def spec_hash(obj: Obj) -> str | None:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(SPEC_HASH)


def render_yaml(objects: list[Obj]) -> str:
    import yaml

    return "".join("---\n" + str(yaml.safe_dump(obj, sort_keys=False)) for obj in objects)

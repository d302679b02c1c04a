"""The agent's Kubernetes objects, built in code and printable (`agent install --print-only`).

`manifests/agent.yaml` in the repository is this module's output for the defaults, and a
test keeps the two equal (`manifests/inspect-rbac.yaml` likewise, for the least-privilege
RBAC of inspect users). Every privilege below says why it is there.

The agent is shared by everyone who inspects the cluster, so its DaemonSet carries an
integer spec revision (`SPEC_REVISION`, label `podnet.io/spec-revision`, on the pods too)
and no plugin version: a plugin upgrades an installed DaemonSet only when its revision is
older, never rewrites it because another plugin version wrote it, and keeps its image.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from kubectl_podnet.node.procfs import NETNS_DIR

Obj = dict[str, Any]

DEFAULT_NAMESPACE = "podnet-system"
DEFAULT_IMAGE = "docker.io/library/python:3.12-slim"
AGENT_NAME = "podnet-agent"
CONTAINER = "agent"
CACHE_DIR = "/var/cache/podnet"
SPEC_HASH = "podnet.io/spec-hash"
REVISION_LABEL = "podnet.io/spec-revision"
# Bump only when the agent pod's spec changes in a way the agent code needs (a mount, a
# privilege): every inspect then upgrades an older DaemonSet, keeping its image.
SPEC_REVISION = 1
INSPECT_ROLE = "podnet-inspect"
INSPECT_GROUP = "podnet-inspectors"
MANAGED_BY = {"app.kubernetes.io/managed-by": "kubectl-podnet"}
PART_OF = {"app.kubernetes.io/part-of": "kubectl-podnet"}  # yours to apply and delete, not the plugin's
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
    return {**SELECTOR, **MANAGED_BY}


def _revisioned() -> dict[str, str]:
    return {**_labels(), REVISION_LABEL: str(SPEC_REVISION)}


def revision_of(obj: Obj) -> int:
    """The spec revision a DaemonSet or agent pod carries; 0 when it has none (older plugins)."""
    text = ((obj.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL, "")
    return int(text) if isinstance(text, str) and text.isdigit() else 0


def image_of(obj: Obj) -> str | None:
    """The agent container's image in a DaemonSet or an agent pod."""
    spec = obj.get("spec") or {}
    spec = (spec.get("template") or {}).get("spec") or spec
    for container in spec.get("containers") or []:
        if isinstance(container, dict) and container.get("name") == CONTAINER:
            return str(container.get("image"))
    return None


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
        "metadata": {"name": AGENT_NAME, "namespace": namespace, "labels": _revisioned()},
        "spec": {
            "selector": {"matchLabels": dict(SELECTOR)},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "100%"}},
            "template": {
                # the pods carry the revision: a warm inspect reads it there, not from the DaemonSet
                "metadata": {"labels": _revisioned()},
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


def inspect_rbac_objects(namespace: str = DEFAULT_NAMESPACE, group: str = INSPECT_GROUP) -> list[Obj]:
    """The least a user needs to run `inspect` once the agent is installed, bound to `group`.

    In the agent namespace: list the agent pods (one list finds the pod on a node, its
    readiness and spec revision) and exec in them. Anywhere the user inspects: get and
    list pods. Nothing else: no DaemonSets, no events, no writes but the exec.
    """
    rbac = "rbac.authorization.k8s.io/v1"
    role: Obj = {
        "apiVersion": rbac,
        "kind": "Role",
        "metadata": {"name": INSPECT_ROLE, "namespace": namespace, "labels": dict(PART_OF)},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]},  # find the agent pod on a node
            # run the agent in it: the exec is a websocket upgrade of a GET, which the API server
            # authorizes as get (and, since 1.31, as create too)
            {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create", "get"]},
        ],
    }
    reader: Obj = {
        "apiVersion": rbac,
        "kind": "ClusterRole",
        "metadata": {"name": f"{INSPECT_ROLE}-pods", "labels": dict(PART_OF)},
        # read the pod to inspect (its uid, node, containers, IPs); -l lists them
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
                  # connect: each node's InternalIP, and the NetworkPolicies that select A or B
                  {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]},
                  {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["list"]}],
    }
    subjects = [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}]
    binding: Obj = {
        "apiVersion": rbac,
        "kind": "RoleBinding",
        "metadata": {"name": INSPECT_ROLE, "namespace": namespace, "labels": dict(PART_OF)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": INSPECT_ROLE},
        "subjects": subjects,
    }
    # cluster-wide here; a RoleBinding to the same ClusterRole narrows it to one namespace
    reader_binding: Obj = {
        "apiVersion": rbac,
        "kind": "ClusterRoleBinding",
        "metadata": {"name": f"{INSPECT_ROLE}-pods", "labels": dict(PART_OF)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{INSPECT_ROLE}-pods"},
        "subjects": subjects,
    }
    return [role, binding, reader, reader_binding]


def render_yaml(objects: list[Obj]) -> str:
    import yaml

    return "".join("---\n" + str(yaml.safe_dump(obj, sort_keys=False)) for obj in objects)

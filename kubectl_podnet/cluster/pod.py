"""A Pod object in, an InspectRequest (or a clear refusal) out. Pure."""

from __future__ import annotations

from typing import Any

from kubectl_podnet.cluster.declared import attached_networks, declared_ports
from kubectl_podnet.errors import ClusterError
from kubectl_podnet.model import ContainerRef, InspectRequest, Role

Obj = dict[str, Any]

# The kubelet puts a static pod's processes under its config hash, not the mirror pod's uid.
CONFIG_HASH = "kubernetes.io/config.hash"


def _strip_runtime(container_id: str) -> str:
    return container_id.split("://", 1)[-1]


def running_containers(pod: Obj) -> list[ContainerRef]:
    """Containers with a running process: app, native sidecars, ephemeral; not finished inits."""
    spec, status = pod.get("spec", {}), pod.get("status", {})
    sidecars = {c["name"] for c in spec.get("initContainers", []) if c.get("restartPolicy") == "Always"}
    groups: list[tuple[str, str, Role | None]] = [
        ("initContainerStatuses", "initContainers", None),
        ("containerStatuses", "containers", "app"),
        ("ephemeralContainerStatuses", "ephemeralContainers", "ephemeral"),
    ]
    refs = []
    for key, spec_key, role in groups:
        # the API sorts statuses by name; people think in the order of the spec
        order = {c["name"]: i for i, c in enumerate(spec.get(spec_key) or [])}
        for entry in sorted(status.get(key) or [], key=lambda e: order.get(e["name"], len(order))):
            if "running" not in (entry.get("state") or {}) or not entry.get("containerID"):
                continue
            kind: Role = role or ("sidecar" if entry["name"] in sidecars else "init")
            refs.append(ContainerRef(id=_strip_runtime(entry["containerID"]), name=entry["name"], role=kind))
    return refs


def _pending_reason(pod: Obj) -> str:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") != "True":
            return condition.get("message") or condition.get("reason") or "not scheduled"
    return "not scheduled yet"


def inspect_request(pod: Obj, probe_timeout: float = 0.5) -> InspectRequest:
    meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
    where = f"pod {meta.get('namespace')}/{meta['name']}"
    phase = status.get("phase")
    node = spec.get("nodeName")
    if not node:
        raise ClusterError(f"{where} is {phase or 'Pending'} and not scheduled: {_pending_reason(pod)}")
    if phase in ("Succeeded", "Failed"):
        raise ClusterError(f"{where} has finished ({phase}); its network namespace is gone")
    refs = running_containers(pod)
    if not refs:
        waiting = [
            f"{c['name']}: {(c.get('state') or {}).get('waiting', {}).get('reason', 'not running')}"
            for c in status.get("containerStatuses") or []
        ]
        raise ClusterError(f"{where} on {node} has no running container ({'; '.join(waiting) or phase})")
    uid = (meta.get("annotations") or {}).get(CONFIG_HASH) or meta["uid"]
    return InspectRequest(
        pod_uid=uid,
        containers=refs,
        pod_ips=[entry["ip"] for entry in status.get("podIPs") or [] if entry.get("ip")]
        or ([status["podIP"]] if status.get("podIP") else []),
        namespace=meta.get("namespace"),
        name=meta["name"],
        node=node,
        host_network=bool(spec.get("hostNetwork")),
        probe_timeout=probe_timeout,
        declared_ports=declared_ports(pod),
        networks=attached_networks(pod),
    )

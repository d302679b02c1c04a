"""A Pod object in, an InspectRequest (or a clear refusal) out. Pure."""

from __future__ import annotations

from typing import Any

from kubectl_podnet.cluster.api_types import Container, ContainerStatus, Pod, as_pod
from kubectl_podnet.cluster.declared import attached_networks, declared_ports
from kubectl_podnet.errors import ClusterError
from kubectl_podnet.model import ContainerRef, ContainerState, InspectRequest, Role

Obj = dict[str, Any]

# The kubelet puts a static pod's processes under its config hash, not the mirror pod's uid.
CONFIG_HASH = "kubernetes.io/config.hash"


def _strip_runtime(container_id: str) -> str:
    return container_id.split("://", 1)[-1]


def container_state(entry: ContainerStatus | None) -> ContainerState:
    """One entry of `status.*ContainerStatuses` as a ContainerState."""
    if entry is None:
        return ContainerState("waiting", reason="no status yet")
    state, restarts = entry.get("state") or {}, int(entry.get("restartCount") or 0)
    if "running" in state and entry.get("containerID"):
        return ContainerState("running", restart_count=restarts)
    if "terminated" in state:
        ended = state["terminated"] or {}
        return ContainerState("terminated", ended.get("reason"), ended.get("exitCode"), restart_count=restarts)
    if "waiting" in state or "running" in state:
        last = ((entry.get("lastState") or {}).get("terminated") or {}).get("exitCode")
        reason = (state.get("waiting") or {}).get("reason") or ("starting" if "running" in state else None)
        return ContainerState("waiting", reason, last_exit_code=last, restart_count=restarts)
    return ContainerState("unknown", restart_count=restarts)


def pod_containers(raw: Obj) -> list[ContainerRef]:
    """Every container of the spec, in its order (init, app, ephemeral), each with its state;
    a status the spec does not name (a race with an update) comes after its group."""
    pod = as_pod(raw)
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    groups: list[tuple[list[Container], list[ContainerStatus], Role | None]] = [
        (spec.get("initContainers") or [], status.get("initContainerStatuses") or [], None),
        (spec.get("containers") or [], status.get("containerStatuses") or [], "app"),
        (spec.get("ephemeralContainers") or [], status.get("ephemeralContainerStatuses") or [], "ephemeral"),
    ]
    refs = []
    for in_spec, in_status, role in groups:
        specs = {c["name"]: c for c in in_spec if isinstance(c, dict) and c.get("name")}
        entries = {e["name"]: e for e in in_status if isinstance(e, dict) and e.get("name")}
        for name in [*specs, *(n for n in entries if n not in specs)]:
            entry = entries.get(name)
            sidecar = (specs.get(name) or {}).get("restartPolicy") == "Always"
            kind: Role = role or ("sidecar" if sidecar else "init")
            refs.append(ContainerRef(id=_strip_runtime((entry or {}).get("containerID") or ""), name=name, role=kind,
                                     status=container_state(entry)))
    return refs


def _pending_reason(pod: Pod) -> str:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") != "True":
            return condition.get("message") or condition.get("reason") or "not scheduled"
    return "not scheduled yet"


def inspect_request(raw: Obj, probe_timeout: float = 0.5) -> InspectRequest:
    pod = as_pod(raw)
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    where = f"pod {meta.get('namespace')}/{meta['name']}"
    phase = status.get("phase")
    node = spec.get("nodeName")
    if not node:
        raise ClusterError(f"{where} is {phase or 'Pending'} and not scheduled: {_pending_reason(pod)}")
    if phase in ("Succeeded", "Failed"):
        raise ClusterError(f"{where} has finished ({phase}); its network namespace is gone")
    refs = pod_containers(raw)
    if not any(ref.status is not None and ref.status.state == "running" for ref in refs):
        waiting = [
            f"{c['name']}: {(c.get('state') or {}).get('waiting', {}).get('reason', 'not running')}"
            for c in status.get("containerStatuses") or []
        ]
        raise ClusterError(f"{where} on {node} has no running container ({'; '.join(waiting) or phase})")
    uid = (meta.get("annotations") or {}).get(CONFIG_HASH) or meta["uid"]
    return InspectRequest(
        pod_uid=uid,
        containers=refs,  # all of them: the agent reports the ones not running with their state
        pod_ips=[entry["ip"] for entry in status.get("podIPs") or [] if entry.get("ip")]
        or ([status["podIP"]] if status.get("podIP") else []),
        namespace=meta.get("namespace"),
        name=meta["name"],
        node=node,
        host_network=bool(spec.get("hostNetwork")),
        probe_timeout=probe_timeout,
        declared_ports=declared_ports(raw),
        networks=attached_networks(raw),
    )

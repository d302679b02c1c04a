"""The raw API payloads the client reads, as TypedDicts: what we rely on, checked by mypy.

The port hands back JSON as the server sent it (camelCase, every key optional as far as we
can trust); these describe the parts of a Pod we read, so a misspelt key or a wrong type is
a type error here instead of a silent `None` at run time. `as_pod` is the one place a raw
object becomes a `Pod`.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast


class ObjectMeta(TypedDict, total=False):
    name: str
    namespace: str
    uid: str
    annotations: dict[str, str]
    labels: dict[str, str]
    deletionTimestamp: str


class ContainerPort(TypedDict, total=False):
    name: str
    containerPort: int
    protocol: str


class ProbeAction(TypedDict, total=False):
    host: str
    port: int | str


class Probe(TypedDict, total=False):
    tcpSocket: ProbeAction
    httpGet: ProbeAction
    grpc: ProbeAction


class Container(TypedDict, total=False):
    name: str
    restartPolicy: str  # "Always" on an init container: a native sidecar
    ports: list[ContainerPort]
    readinessProbe: Probe
    livenessProbe: Probe
    startupProbe: Probe


class PodSpec(TypedDict, total=False):
    nodeName: str
    hostNetwork: bool
    initContainers: list[Container]
    containers: list[Container]
    ephemeralContainers: list[Container]


class StateDetail(TypedDict, total=False):
    reason: str
    message: str
    exitCode: int


class ContainerStateDict(TypedDict, total=False):
    running: StateDetail
    waiting: StateDetail
    terminated: StateDetail


class ContainerStatus(TypedDict, total=False):
    name: str
    containerID: str
    restartCount: int
    ready: bool
    state: ContainerStateDict
    lastState: ContainerStateDict


class PodCondition(TypedDict, total=False):
    type: str
    status: str
    reason: str
    message: str


class PodIP(TypedDict, total=False):
    ip: str


class PodStatus(TypedDict, total=False):
    phase: str
    podIP: str
    podIPs: list[PodIP]
    conditions: list[PodCondition]
    initContainerStatuses: list[ContainerStatus]
    containerStatuses: list[ContainerStatus]
    ephemeralContainerStatuses: list[ContainerStatus]


class Pod(TypedDict, total=False):
    metadata: ObjectMeta
    spec: PodSpec
    status: PodStatus


def as_pod(obj: dict[str, Any]) -> Pod:
    """A Pod object from the port, read through the fields above (no copy, no check)."""
    return cast(Pod, obj)

"""A Pod object in, an InspectRequest or one clear refusal out."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubectl_podnet.cluster.pod import inspect_request, pod_containers
from kubectl_podnet.errors import ClusterError
from kubectl_podnet.model import ContainerRef, ContainerState

UID = "5e2a0c4b-8a3f-4f2e-9a53-3b1f0c9d1e77"


def _running(pod: dict[str, Any]) -> list[ContainerRef]:
    return [ref for ref in pod_containers(pod) if ref.status is not None and ref.status.state == "running"]


def pod(**status: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "metadata": {"name": "web", "namespace": "shop", "uid": UID},
        "spec": {
            "nodeName": "node-1",
            "initContainers": [{"name": "proxy", "restartPolicy": "Always"}, {"name": "migrate"}],
            "containers": [{"name": "web"}, {"name": "sidecar"}],
        },
        "status": {
            "phase": "Running",
            "podIP": "10.244.0.7",
            "podIPs": [{"ip": "10.244.0.7"}, {"ip": "fd00::7"}],
            "initContainerStatuses": [
                {"name": "proxy", "containerID": "containerd://" + "1" * 64, "state": {"running": {}}},
                {"name": "migrate", "containerID": "containerd://" + "2" * 64, "state": {"terminated": {}}},
            ],
            "containerStatuses": [
                {"name": "web", "containerID": "containerd://" + "3" * 64, "state": {"running": {}}},
                {"name": "sidecar", "containerID": "cri-o://" + "4" * 64, "state": {"running": {}}},
            ],
            "ephemeralContainerStatuses": [
                {"name": "debugger", "containerID": "containerd://" + "5" * 64, "state": {"running": {}}}
            ],
        },
    }
    base["status"].update(status)
    return base


def test_running_containers_with_roles_and_runtime_prefix_stripped() -> None:
    refs = _running(pod())
    assert [(r.name, r.role, r.id[:1]) for r in refs] == [
        ("proxy", "sidecar", "1"), ("web", "app", "3"), ("sidecar", "app", "4"), ("debugger", "ephemeral", "5"),
    ]


def test_request_carries_uid_node_and_both_pod_ips() -> None:
    request = inspect_request(pod())
    assert request.pod_uid == UID and request.node == "node-1"
    assert request.pod_ips == ["10.244.0.7", "fd00::7"]
    assert request.host_network is False


def test_static_pod_is_searched_by_its_config_hash() -> None:
    mirror = pod()
    mirror["metadata"]["annotations"] = {"kubernetes.io/config.hash": "d8992f589d8dd12c4342376ccb459375"}
    assert inspect_request(mirror).pod_uid == "d8992f589d8dd12c4342376ccb459375"


def test_pod_ip_falls_back_to_the_singular_field() -> None:
    older = pod()
    del older["status"]["podIPs"]
    assert inspect_request(older).pod_ips == ["10.244.0.7"]


def test_unscheduled_pod_is_refused_with_the_scheduler_message() -> None:
    pending = pod(phase="Pending", conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                 "message": "0/1 nodes are available: 1 Insufficient memory."}])
    del pending["spec"]["nodeName"]
    with pytest.raises(ClusterError, match=r"pod shop/web is Pending and not scheduled: 0/1 nodes are available"):
        inspect_request(pending)


def test_finished_pod_is_refused() -> None:
    with pytest.raises(ClusterError, match="has finished \\(Succeeded\\)"):
        inspect_request(pod(phase="Succeeded"))


def test_pod_with_nothing_running_says_why() -> None:
    waiting = copy.deepcopy(pod())
    waiting["status"]["initContainerStatuses"] = []
    waiting["status"]["ephemeralContainerStatuses"] = []
    waiting["status"]["containerStatuses"] = [
        {"name": "web", "state": {"waiting": {"reason": "ImagePullBackOff"}}},
    ]
    with pytest.raises(ClusterError, match="has no running container \\(web: ImagePullBackOff\\)"):
        inspect_request(waiting)


def test_containers_come_in_spec_order_not_the_api_s_name_order() -> None:
    shuffled = pod()
    shuffled["spec"]["containers"] = [{"name": "zeta"}, {"name": "alpha"}]
    shuffled["status"]["containerStatuses"] = [
        {"name": "alpha", "containerID": "containerd://" + "6" * 64, "state": {"running": {}}},
        {"name": "zeta", "containerID": "containerd://" + "7" * 64, "state": {"running": {}}},
    ]
    names = [r.name for r in _running(shuffled) if r.role == "app"]
    assert names == ["zeta", "alpha"]


def test_the_request_carries_every_container_of_the_spec_with_its_state() -> None:
    crashing = pod()
    crashing["spec"]["containers"].append({"name": "crash"})
    crashing["spec"]["ephemeralContainers"] = [{"name": "debugger"}, {"name": "not-started"}]
    crashing["status"]["containerStatuses"].append(
        {"name": "crash", "containerID": "containerd://" + "6" * 64, "restartCount": 4,
         "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 1m20s"}},
         "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}})
    crashing["status"]["initContainerStatuses"][1]["state"] = {"terminated": {"reason": "Completed", "exitCode": 0}}
    refs = inspect_request(crashing).containers
    assert [(r.name, r.role, r.status) for r in refs] == [
        ("proxy", "sidecar", ContainerState("running")),
        ("migrate", "init", ContainerState("terminated", "Completed", exit_code=0)),
        ("web", "app", ContainerState("running")),
        ("sidecar", "app", ContainerState("running")),
        ("crash", "app", ContainerState("waiting", "CrashLoopBackOff", last_exit_code=1, restart_count=4)),
        ("debugger", "ephemeral", ContainerState("running")),
        ("not-started", "ephemeral", ContainerState("waiting", "no status yet")),
    ]
    assert refs[-1].id == "" and refs[4].id == "6" * 64
    assert [r.name for r in _running(crashing)] == ["proxy", "web", "sidecar", "debugger"]


def test_a_container_without_status_or_id_is_waiting_and_a_running_one_without_id_is_starting() -> None:
    fresh = pod()
    fresh["status"]["containerStatuses"][1] = {"name": "sidecar", "state": {"running": {}}}
    states = {r.name: r.status for r in pod_containers(fresh)}
    assert states["sidecar"] == ContainerState("waiting", "starting")

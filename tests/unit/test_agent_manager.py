"""The agent DaemonSet lifecycle against a fake of our own ClusterPort."""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_podnet.cluster.agent import AgentManager, pod_problem
from kubectl_podnet.errors import AgentError
from tests.fakes import FakeCluster, running_agent_pod


def test_install_creates_namespace_account_and_daemonset_then_is_unchanged() -> None:
    cluster = FakeCluster()
    manager = AgentManager(cluster)
    assert manager.install() == [
        "Namespace/podnet-system created", "ServiceAccount/podnet-agent created", "DaemonSet/podnet-agent created",
    ]
    assert all(line.endswith("unchanged") for line in manager.install())


def test_ensure_installs_when_allowed_and_returns_the_pod_on_that_node() -> None:
    cluster = FakeCluster()
    cluster.on_apply = lambda obj: obj["kind"] == "DaemonSet" and cluster.add_pod(running_agent_pod("node-1"))
    said: list[str] = []
    agent = AgentManager(cluster, progress=said.append).ensure_on("node-1", timeout=5, install=True)
    assert agent.name == "podnet-agent-x1" and agent.node == "node-1"
    assert said[0].startswith("installing the podnet agent")


def test_no_install_without_the_agent_fails_with_the_way_out() -> None:
    with pytest.raises(AgentError, match="not installed.*kubectl podnet agent install"):
        AgentManager(FakeCluster()).ensure_on("node-1", timeout=1, install=False)


def test_another_image_is_updated_or_refused_under_no_install() -> None:
    cluster = FakeCluster()
    AgentManager(cluster, image="old:1").install()
    cluster.add_pod(running_agent_pod("node-1"))
    with pytest.raises(AgentError, match="installed with another image or plugin version \\(want new:2\\)"):
        AgentManager(cluster, image="new:2").ensure_on("node-1", timeout=1, install=False)
    AgentManager(cluster, image="new:2").ensure_on("node-1", timeout=1, install=True)
    daemonset = cluster.read("DaemonSet", "podnet-system", "podnet-agent")
    assert daemonset is not None
    assert daemonset["spec"]["template"]["spec"]["containers"][0]["image"] == "new:2"


def _agent_waiting(reason: str, message: str) -> dict[str, Any]:
    pod = running_agent_pod("node-1")
    pod["status"] = {"phase": "Pending", "containerStatuses": [
        {"name": "agent", "ready": False, "state": {"waiting": {"reason": reason, "message": message}}}]}
    return pod


def test_timeout_names_an_image_pull_error() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    cluster.add_pod(_agent_waiting("ImagePullBackOff", "Back-off pulling image python:3.12-slim"))
    with pytest.raises(AgentError, match=r"not ready on node-1 after 1s: image pull error \(ImagePullBackOff\)"):
        AgentManager(cluster).ensure_on("node-1", timeout=1, install=False)


def test_timeout_without_any_pod_on_the_node_suggests_a_taint() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    with pytest.raises(AgentError, match="no pod on node node-9: a taint"):
        AgentManager(cluster).ensure_on("node-9", timeout=0.2, install=False)


def test_pod_problem_reads_unschedulable_and_exited_agents() -> None:
    pending = {"status": {"phase": "Pending", "conditions": [
        {"type": "PodScheduled", "status": "False", "message": "node(s) had untolerated taint"}]}}
    assert pod_problem(pending) == "pending: node(s) had untolerated taint"
    exited = {"status": {"containerStatuses": [{"state": {"terminated": {"reason": "Error"}}}]}}
    assert pod_problem(exited) == "agent container exited (Error)"
    assert pod_problem(running_agent_pod("n")) is None


def test_uninstall_removes_every_object_of_ours() -> None:
    cluster = FakeCluster()
    manager = AgentManager(cluster)
    manager.install()
    cluster.add_pod(running_agent_pod("node-1"))
    done = manager.uninstall(timeout=2)
    assert "Namespace/podnet-system deleted" in done
    assert cluster.objects == {} and cluster.pods == {}


def test_uninstall_leaves_a_namespace_that_is_not_ours() -> None:
    cluster = FakeCluster()
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}})
    manager = AgentManager(cluster, namespace="ops")
    manager.install()  # re-applies the namespace as ours: undo that to simulate a shared one
    cluster.objects[("Namespace", None, "ops")] = {"kind": "Namespace", "metadata": {"name": "ops", "labels": {}}}
    manager.uninstall(timeout=2)
    assert list(cluster.objects) == [("Namespace", None, "ops")]


def test_status_lists_the_daemonset_and_its_pods() -> None:
    cluster = FakeCluster()
    manager = AgentManager(cluster)
    assert manager.status() == ["not installed (namespace podnet-system)"]
    manager.install()
    cluster.add_pod(running_agent_pod("node-1"))
    lines = manager.status()
    assert lines[0].startswith("DaemonSet podnet-system/podnet-agent: image docker.io/library/python:3.12-slim")
    assert lines[1] == "  podnet-agent-x1 on node-1: Running"


def test_a_daemonset_from_another_plugin_version_is_updated() -> None:
    cluster = FakeCluster()
    manager = AgentManager(cluster)
    manager.install()
    key = ("DaemonSet", "podnet-system", "podnet-agent")
    cluster.objects[key]["metadata"]["annotations"]["podnet.io/spec-hash"] = "from-0.0.9"
    cluster.add_pod(running_agent_pod("node-1"))
    said: list[str] = []
    AgentManager(cluster, progress=said.append).ensure_on("node-1", timeout=1, install=True)
    assert said[0].startswith("updating the podnet agent")
    assert cluster.objects[key]["metadata"]["annotations"]["podnet.io/spec-hash"] != "from-0.0.9"

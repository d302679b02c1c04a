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


def test_an_agent_pod_replaced_while_waiting_is_reported() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    old = running_agent_pod("node-1", name="podnet-agent-old")
    old["status"] = {"phase": "Pending", "containerStatuses": [
        {"name": "agent", "ready": False, "state": {"waiting": {"reason": "ContainerCreating"}}}]}
    cluster.add_pod(old)
    said: list[str] = []

    def replace_then_report(message: str) -> None:
        said.append(message)
        if ("podnet-system", "podnet-agent-old") in cluster.pods:
            del cluster.pods[("podnet-system", "podnet-agent-old")]
            cluster.add_pod(running_agent_pod("node-1", name="podnet-agent-new"))

    agent = AgentManager(cluster, progress=replace_then_report).ensure_on("node-1", timeout=5, install=False)
    assert agent.name == "podnet-agent-new"
    assert "agent pod podnet-agent-old went away; waiting for its replacement" in said


def test_an_agent_pod_deleted_during_the_exec_is_named_as_the_cause(tmp_path: Any) -> None:
    from kubectl_podnet.cluster.agent import AgentPod
    from kubectl_podnet.cluster.inspect import run_agent_on
    from kubectl_podnet.model import InspectRequest

    cluster = FakeCluster(cache_dir=str(tmp_path))
    manager = AgentManager(cluster)
    agent = AgentPod(name="podnet-agent-x1", node="node-1", namespace="podnet-system")  # already deleted
    with pytest.raises(AgentError, match="podnet-agent-x1 went away during the inspect \\(rerun"):
        run_agent_on(cluster, manager, agent, [InspectRequest(pod_uid="0a1b2c3d-0000-4000-8000-00000000abcd")],
                     10, lambda _: None)

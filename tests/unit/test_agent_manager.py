"""The agent DaemonSet lifecycle against a fake of our own ClusterPort.

The fake does what the API server does with create/replace/read (409s included) and
nothing more; every decision tested here is the AgentManager's.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubectl_podnet.cluster.agent import AgentManager, pod_problem
from kubectl_podnet.cluster.manifests import REVISION_LABEL, SPEC_REVISION, image_of, revision_of
from kubectl_podnet.errors import AgentError, AlreadyExists, UsageError
from tests.fakes import FakeCluster, pod_from, running_agent_pod

Obj = dict[str, Any]
AGENT = ("podnet-system", "podnet-agent-x1")
DAEMONSET = ("DaemonSet", "podnet-system", "podnet-agent")


def _controller(cluster: FakeCluster, node: str = "node-1") -> None:
    """What the DaemonSet controller does: each write of the DaemonSet remakes its pod on `node`."""
    def make_pod(obj: Obj) -> None:
        if obj["kind"] == "DaemonSet":
            cluster.pods.pop(AGENT, None)
            cluster.add_pod(pod_from(obj, node))
    cluster.on_write = make_pod


def _daemonset(cluster: FakeCluster) -> Obj:
    found = cluster.objects.get(DAEMONSET)
    assert found is not None
    return found


def _not_ready(cluster: FakeCluster) -> None:
    cluster.pods[AGENT]["status"]["containerStatuses"][0]["ready"] = False


def test_install_creates_namespace_account_and_daemonset_then_is_unchanged() -> None:
    cluster = FakeCluster()
    manager = AgentManager(cluster)
    assert manager.install() == [
        "Namespace/podnet-system created", "ServiceAccount/podnet-agent created", "DaemonSet/podnet-agent created",
    ]
    assert all(line.endswith("unchanged") for line in manager.install())


def test_ensure_installs_when_allowed_and_returns_the_pod_on_that_node() -> None:
    cluster = FakeCluster()
    _controller(cluster)
    said: list[str] = []
    agent = AgentManager(cluster, progress=said.append).ensure_on("node-1", timeout=5, install=True)
    assert agent.name == "podnet-agent-x1" and agent.node == "node-1"
    assert agent.fresh  # it came up while we waited: its first exec carries the code
    assert said[0].startswith("installing the podnet agent")


def test_no_install_without_the_agent_fails_with_the_way_out() -> None:
    with pytest.raises(AgentError, match="not installed.*kubectl podnet agent install"):
        AgentManager(FakeCluster()).ensure_on("node-1", timeout=1, install=False)


# ---- the installed image is authoritative ---------------------------------------------------


def test_inspect_without_agent_image_uses_the_installed_mirror_and_writes_nothing() -> None:
    cluster = FakeCluster()
    _controller(cluster)
    AgentManager(cluster, image="mirror.local/python:3.11").install()
    cluster.writes.clear()
    _not_ready(cluster)  # not usable at once: the slow path reads the DaemonSet

    def ready_on_second_look(_: str) -> None:
        cluster.pods[AGENT]["status"]["containerStatuses"][0]["ready"] = True

    AgentManager(cluster, progress=ready_on_second_look).ensure_on("node-1", timeout=5, install=True)
    assert "DaemonSet" in cluster.reads and cluster.writes == []
    assert image_of(_daemonset(cluster)) == "mirror.local/python:3.11"


def test_inspect_with_another_agent_image_is_a_usage_error_naming_both_and_the_switch() -> None:
    cluster = FakeCluster()
    _controller(cluster)
    AgentManager(cluster, image="mirror.local/python:3.11").install()
    cluster.writes.clear()
    with pytest.raises(UsageError) as raised:
        AgentManager(cluster, image="python:3.12-slim").ensure_on("node-1", timeout=1, install=True)
    assert raised.value.one_line() == (
        "the podnet agent is installed with image mirror.local/python:3.11, not python:3.12-slim "
        "(`kubectl podnet agent install --agent-image python:3.12-slim` is the way to switch it)"
    )
    assert int(raised.value.exit_status) == 2
    assert cluster.writes == [] and image_of(_daemonset(cluster)) == "mirror.local/python:3.11"


def test_no_install_with_another_agent_image_names_the_pods_image_without_reading_the_daemonset() -> None:
    cluster = FakeCluster()
    cluster.add_pod(running_agent_pod("node-1", image="mirror.local/python:3.11"))
    cluster.forbidden_kinds = {"DaemonSet"}
    with pytest.raises(UsageError, match="installed with image mirror.local/python:3.11, not other:1"):
        AgentManager(cluster, image="other:1").ensure_on("node-1", timeout=1, install=False)
    assert cluster.reads == []


def test_agent_install_switches_the_image_and_without_one_keeps_it() -> None:
    cluster = FakeCluster()
    AgentManager(cluster, image="mirror.local/python:3.11").install()
    assert AgentManager(cluster).install()[-1] == "DaemonSet/podnet-agent unchanged"
    assert image_of(_daemonset(cluster)) == "mirror.local/python:3.11"
    assert AgentManager(cluster, image="mirror.local/python:3.12").install()[-1] == "DaemonSet/podnet-agent configured"
    assert image_of(_daemonset(cluster)) == "mirror.local/python:3.12"


def _set_revision(cluster: FakeCluster, revision: int) -> None:
    """As another plugin would have written it: its revision, and a spec hash of its own."""
    daemonset = cluster.objects[DAEMONSET]
    daemonset["metadata"]["labels"][REVISION_LABEL] = str(revision)
    daemonset["metadata"]["annotations"]["podnet.io/spec-hash"] = f"plugin-with-revision-{revision}"


def test_an_older_revision_is_upgraded_by_inspect_keeping_its_image() -> None:
    cluster = FakeCluster()
    _controller(cluster)
    AgentManager(cluster, image="mirror.local/python:3.11").install()
    _set_revision(cluster, SPEC_REVISION - 1)
    cluster.pods.clear()
    cluster.add_pod(running_agent_pod("node-1", image="mirror.local/python:3.11", revision=SPEC_REVISION - 1))
    said: list[str] = []
    agent = AgentManager(cluster, progress=said.append).ensure_on("node-1", timeout=5, install=True)
    assert agent.name == "podnet-agent-x1" and revision_of(cluster.pods[AGENT]) == SPEC_REVISION
    assert said[0] == (f"upgrading the podnet agent (mirror.local/python:3.11) in namespace podnet-system "
                       f"from spec revision {SPEC_REVISION - 1} to {SPEC_REVISION}")
    assert revision_of(_daemonset(cluster)) == SPEC_REVISION
    assert image_of(_daemonset(cluster)) == "mirror.local/python:3.11"


@pytest.mark.parametrize("revision", [SPEC_REVISION + 1, SPEC_REVISION], ids=["newer-plugin", "same-revision"])
def test_inspect_never_downgrades_nor_rewrites_for_another_plugin_version(revision: int) -> None:
    cluster = FakeCluster()
    _controller(cluster)
    AgentManager(cluster).install()
    _set_revision(cluster, revision)
    cluster.writes.clear()
    cluster.pods[AGENT]["metadata"]["labels"][REVISION_LABEL] = str(revision)
    _not_ready(cluster)
    with pytest.raises(AgentError, match="not ready"):
        AgentManager(cluster).ensure_on("node-1", timeout=0.2, install=True)
    assert cluster.writes == [] and revision_of(_daemonset(cluster)) == revision


def test_agent_install_refuses_to_switch_the_image_of_a_newer_revision() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    _set_revision(cluster, SPEC_REVISION + 1)
    assert AgentManager(cluster).install()[-1].startswith("DaemonSet/podnet-agent unchanged (installed by a newer")
    with pytest.raises(AgentError, match="newer plugin.*upgrade kubectl-podnet"):
        AgentManager(cluster, image="x:1").install()


# ---- concurrent installs converge -----------------------------------------------------------


def test_creates_that_lost_the_race_read_what_the_other_created_and_go_on() -> None:
    cluster = FakeCluster()
    theirs = {obj["kind"]: obj for obj in AgentManager(FakeCluster()).objects()}

    def someone_else_first(obj: Obj) -> None:
        if (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]) not in cluster.objects:
            hook, cluster.before_write = cluster.before_write, None
            cluster.create(theirs[obj["kind"]])
            cluster.before_write = hook

    cluster.before_write = someone_else_first
    assert AgentManager(cluster).install(explicit=False) == [
        "Namespace/podnet-system unchanged", "ServiceAccount/podnet-agent unchanged",
        "DaemonSet/podnet-agent unchanged",
    ]
    assert [verb for verb, _ in cluster.writes] == ["create", "create", "create"]  # theirs only


def test_a_replace_that_conflicts_rereads_and_decides_again() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    _set_revision(cluster, SPEC_REVISION - 1)
    ours = AgentManager(FakeCluster()).objects()[2]

    def upgraded_meanwhile(obj: Obj) -> None:
        cluster.before_write = None
        cluster.replace({**ours, "metadata": {**ours["metadata"],
                                              "resourceVersion": cluster.objects[DAEMONSET]["metadata"]["resourceVersion"]}})

    cluster.before_write = upgraded_meanwhile
    cluster.writes.clear()
    assert AgentManager(cluster).install(explicit=False)[-1] == "DaemonSet/podnet-agent unchanged"
    assert cluster.writes == [("replace", "DaemonSet")]  # theirs; ours answered Conflict, re-read, kept it


def test_an_object_that_keeps_changing_gives_up_after_bounded_attempts() -> None:
    cluster = FakeCluster()

    def always_beaten(obj: Obj) -> None:
        raise AlreadyExists(f"create {obj['kind']}: AlreadyExists")  # and deleted again before we read it

    cluster.before_write = always_beaten
    with pytest.raises(AgentError, match="Namespace podnet-system kept changing .*5 attempts"):
        AgentManager(cluster).install()


# ---- the warm path needs only pods list and exec --------------------------------------------


def test_a_ready_current_agent_pod_is_used_without_reading_any_object() -> None:
    cluster = FakeCluster()
    cluster.add_pod(running_agent_pod("node-1"))
    cluster.forbidden_kinds = {"DaemonSet", "Namespace", "ServiceAccount"}
    for install in (True, False):
        agent = AgentManager(cluster).ensure_on("node-1", timeout=1, install=install)
        assert agent.name == "podnet-agent-x1" and not agent.fresh
    assert cluster.reads == [] and cluster.writes == []


def test_no_install_never_reads_the_daemonset_even_when_the_pod_is_old() -> None:
    cluster = FakeCluster()
    cluster.forbidden_kinds = {"DaemonSet"}
    cluster.add_pod(running_agent_pod("node-1", revision=0))
    with pytest.raises(AgentError, match=r"older plugin \(spec revision 0 < 1\).*agent install"):
        AgentManager(cluster).ensure_on("node-1", timeout=1, install=False)
    assert cluster.reads == []


# ---- a pod the DaemonSet cannot create ------------------------------------------------------


def _refusal(cluster: FakeCluster, version: str) -> Obj:
    return {"metadata": {"namespace": "podnet-system", "name": "podnet-agent.1", "resourceVersion": version},
            "reason": "FailedCreate", "lastTimestamp": f"2026-11-26T08:00:0{version}Z",
            "involvedObject": {"kind": "DaemonSet", "name": "podnet-agent",
                               "uid": _daemonset(cluster)["metadata"]["uid"]},
            "message": 'pods "podnet-agent-abcde" is forbidden: violates PodSecurity "baseline:latest": host '
                       "namespaces (hostNetwork=true, hostPID=true)"}


def test_a_failed_create_while_waiting_is_named_at_once() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()

    def refused_again(_: str) -> None:
        cluster.events = [_refusal(cluster, str(len(cluster.events) + 1))]

    refused_again("")
    with pytest.raises(AgentError) as raised:
        AgentManager(cluster, progress=refused_again).ensure_on("node-1", timeout=60, install=True)
    assert raised.value.one_line().startswith(
        'the podnet agent DaemonSet cannot create its pod on node-1: pods "podnet-agent-abcde" is forbidden: '
        "violates PodSecurity")


def test_an_old_refusal_is_named_at_the_timeout_but_not_one_of_a_deleted_daemonset() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    cluster.events = [_refusal(cluster, "1")]
    with pytest.raises(AgentError, match="cannot create its pod on node-1: .*PodSecurity"):
        AgentManager(cluster).ensure_on("node-1", timeout=0.3, install=True)
    cluster.events[0]["involvedObject"]["uid"] = "an-older-daemonset"
    with pytest.raises(AgentError, match="no pod on node node-1: a taint"):
        AgentManager(cluster).ensure_on("node-1", timeout=0.3, install=True)


def test_status_names_the_refusal_when_no_pod_is_ready() -> None:
    cluster = FakeCluster()
    AgentManager(cluster).install()
    cluster.events = [_refusal(cluster, "1")]
    assert AgentManager(cluster).status()[-1].startswith('  cannot create its pods: pods "podnet-agent-abcde"')


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
        AgentManager(cluster).ensure_on("node-9", timeout=0.2, install=True)


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


def test_install_and_uninstall_leave_a_namespace_that_is_not_ours_as_it_was() -> None:
    cluster = FakeCluster()
    theirs = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops", "labels": {"team": "ops"}}}
    cluster.create(theirs)
    manager = AgentManager(cluster, namespace="ops")
    assert manager.install()[0] == "Namespace/ops unchanged"  # even an explicit install keeps their labels
    assert cluster.objects[("Namespace", None, "ops")]["metadata"]["labels"] == {"team": "ops"}
    manager.uninstall(timeout=2)
    assert list(cluster.objects) == [("Namespace", None, "ops")]


def test_status_lists_the_daemonset_and_its_pods() -> None:
    cluster = FakeCluster()
    manager = AgentManager(cluster)
    assert manager.status() == ["not installed (namespace podnet-system)"]
    manager.install()
    cluster.add_pod(running_agent_pod("node-1"))
    lines = manager.status()
    assert lines[0].startswith(f"DaemonSet podnet-system/podnet-agent: image docker.io/library/python:3.12-slim, "
                               f"spec revision {SPEC_REVISION}")
    assert lines[1] == "  podnet-agent-x1 on node-1: Running, not used since it started"


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
    from kubectl_podnet.cluster.inspect_pods import run_agent_on
    from kubectl_podnet.model import InspectRequest

    cluster = FakeCluster(cache_dir=str(tmp_path))
    manager = AgentManager(cluster)
    agent = AgentPod(name="podnet-agent-x1", node="node-1", namespace="podnet-system")  # already deleted
    with pytest.raises(AgentError, match="podnet-agent-x1 went away during the inspect \\(rerun"):
        run_agent_on(cluster, manager, agent, [InspectRequest(pod_uid="0a1b2c3d-0000-4000-8000-00000000abcd")],
                     10, lambda _: None)

"""inspect_pods end to end against the fake port: nodes in parallel, a pod gone mid-inspect.

The agent really runs (the fake's exec starts it as a local process and it scans this
machine's /proc), so a made-up pod uid is really not found, as on a node the pod left.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from kubectl_podnet.cluster.agent import AgentManager
from kubectl_podnet.cluster.inspect_pods import inspect_pods, why_no_process
from kubectl_podnet.cluster.selection import Selection
from kubectl_podnet.errors import AgentError, ClusterError, NoPodProcess, PodnetError
from tests.fakes import FakeCluster, running_agent_pod

Obj = dict[str, Any]
UID = "0a1b2c3d-0000-4000-8000-00000000abcd"


def _pod(name: str, node: str, uid: str = UID, running: bool = True) -> Obj:
    state: Obj = {"running": {}} if running else {"waiting": {"reason": "ContainerCreating"}}
    return {"metadata": {"name": name, "namespace": "shop", "uid": uid},
            "spec": {"nodeName": node, "containers": [{"name": "web"}]},
            "status": {"phase": "Running" if running else "Pending", "containerStatuses": [
                {"name": "web", "containerID": "containerd://" + "a" * 64 if running else None, "state": state}]}}


def _quiet(_: str) -> None:
    return None


# ---- no process of the pod: re-read it and say what happened --------------------------------


def test_a_pod_deleted_during_the_inspect_is_named_as_deleted(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    cluster.add_pod(_pod("web", "node-1"))
    cluster.add_pod(running_agent_pod("node-1"))
    cluster.on_exec = lambda _: cluster.pods.pop(("shop", "web"), None)
    (outcome,) = inspect_pods(cluster, Selection("shop", ("web",)), AgentManager(cluster), 60, False, _quiet)
    assert isinstance(outcome.outcome, ClusterError)
    assert outcome.outcome.one_line() == "pod shop/web was deleted during the inspect"


def test_a_pod_recreated_under_a_new_uid_says_so() -> None:
    cluster = FakeCluster()
    cluster.add_pod(_pod("web", "node-1", uid="11111111-0000-4000-8000-000000000002"))
    error = why_no_process(cluster, _pod("web", "node-1"), NoPodProcess("no process of pod"))
    assert error.one_line() == (
        f"pod shop/web was recreated under a new uid during the inspect ({UID} is gone, "
        "11111111-0000-4000-8000-000000000002 replaced it) (rerun to inspect the new one)"
    )


def test_a_pod_not_running_yet_says_so_with_its_containers_state() -> None:
    cluster = FakeCluster()
    cluster.add_pod(_pod("web", "node-1", running=False))
    error = why_no_process(cluster, _pod("web", "node-1"), NoPodProcess("no process of pod"))
    assert error.one_line() == (
        "pod shop/web on node-1 has no running container (web: ContainerCreating); "
        "the agent found none of its processes"
    )


def test_a_pod_that_still_runs_keeps_the_agents_own_words() -> None:
    cluster = FakeCluster()
    cluster.add_pod(_pod("web", "node-1"))
    original = NoPodProcess("on node node-1: no process of pod x", hint="is the agent in the host PID namespace?")
    assert why_no_process(cluster, _pod("web", "node-1"), original) is original


# ---- nodes in parallel, each within its own timeout -----------------------------------------


def test_execs_to_different_nodes_run_at_the_same_time(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    for node in ("node-a", "node-b"):
        cluster.add_pod(_pod(f"web-{node}", node))
        cluster.add_pod(running_agent_pod(node, name=f"podnet-agent-{node}"))
    b_started = threading.Event()
    a_saw_b: list[bool] = []

    def exec_hook(pod: str) -> None:
        if pod == "podnet-agent-node-b":
            b_started.set()
        elif not a_saw_b:
            # node-a's exec waits for node-b's to start: run one after the other, it never would
            a_saw_b.append(b_started.wait(timeout=60))

    cluster.on_exec = exec_hook
    outcomes = inspect_pods(cluster, Selection("shop", ("web-node-a", "web-node-b")), AgentManager(cluster), 120, False,
                            _quiet, max_parallel=2)
    assert a_saw_b == [True]
    assert [o.name for o in outcomes] == ["web-node-a", "web-node-b"]  # in the order asked, whatever finished first


def test_a_node_whose_agent_never_gets_ready_costs_only_its_own_pods(tmp_path: Path) -> None:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    for node in ("node-dead", "node-ok"):
        cluster.add_pod(_pod(f"web-{node}", node))
        cluster.add_pod(running_agent_pod(node, name=f"podnet-agent-{node}"))
    cluster.add_pod(_pod("api-node-dead", "node-dead"))
    inspect_pods(cluster, Selection("shop", ("web-node-ok",)), AgentManager(cluster), 120, False, _quiet)  # code sent
    cluster.pods[("podnet-system", "podnet-agent-node-dead")]["status"] = {
        "phase": "Running", "containerStatuses": [{"name": "agent", "ready": False, "state": {"running": {}}}]}
    outcomes = inspect_pods(cluster, Selection("shop", ("web-node-dead", "web-node-ok", "api-node-dead")),
                            AgentManager(cluster), 5, False, _quiet)
    dead = [o.outcome for o in outcomes if o.name.endswith("node-dead")]
    assert all(isinstance(error, AgentError) and "not ready on node-dead after 5s" in error.one_line()
               for error in dead) and len(dead) == 2
    (ok,) = [o.outcome for o in outcomes if o.name == "web-node-ok"]
    # the live node's agent ran: this machine has no such pod, which the agent says in its own words
    assert isinstance(ok, PodnetError) and "no process of pod" in ok.one_line()

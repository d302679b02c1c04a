"""The node agent on real namespaces: every scenario of the pod-network model.

Each test builds a lab node (a netns standing for the node, with cni0) and pods in the
kubelet cgroup layout, each with a pause process and container processes joined to its
netns, then runs the agent inside the node netns as the DaemonSet would.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable

import pytest

from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.checks.report import build_report
from kubectl_podnet.errors import NodeError
from kubectl_podnet.lab.spec import ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode
from kubectl_podnet.model import InspectRequest, PodNetReport
from kubectl_podnet.node.gather import inspect_pod
from kubectl_podnet.node.nsenter import run_in_netns
from kubectl_podnet.node.procfs import ProcFS
from tests.privileged.conftest import ask_agent, request_for

pytestmark = pytest.mark.privileged
Lab = Callable[..., LabNode]

SERVER = ContainerSpec("web", listen=("0.0.0.0:8080",))
SIDECAR = ContainerSpec("sidecar")


def test_healthy_two_container_pod_passes_every_check(lab: Lab) -> None:
    node = lab(PodSpec("web", (SERVER, SIDECAR)))
    answer = ask_agent(node, request_for(node))
    assert answer.code == 0
    assert answer.statuses() == dict.fromkeys(CHECK_IDS, "pass")
    report, pod = answer.report, node.plan.pods[0]
    assert report["sandbox"]["source"] == "pause-process"
    assert report["sandbox"]["containerId"] == pod.sandbox_id
    assert report["sandbox"]["pinnedPath"] == f"/run/netns/{pod.netns}"
    assert report["sandbox"]["netnsInode"] == os.stat(f"/run/netns/{pod.netns}").st_ino
    assert [c["name"] for c in report["containers"]] == ["web", "sidecar"]
    eth0 = next(i for i in report["interfaces"] if i["name"] == "eth0")
    assert eth0["peer"] == {
        **eth0["peer"], "name": pod.host_veth, "confirmed": True, "master": "cni0", "masterKind": "bridge",
    }
    assert [(l["address"], l["port"], l["container"]) for l in report["listeners"]] == [("0.0.0.0", 8080, "web")]
    assert {(p["target"], p["ok"]) for p in report["probes"]} == {("127.0.0.1", True), ("::1", False)}


def test_container_left_in_its_own_netns_fails_shared_netns(lab: Lab) -> None:
    node = lab(PodSpec("split", (SERVER, ContainerSpec("stray", own_netns=True))))
    answer = ask_agent(node, request_for(node))
    assert answer.code == 1
    check = answer.check("shared-netns")
    assert check["status"] == "fail" and check["summary"].startswith("stray not in the sandbox netns")
    assert check["evidence"]["containers"]["web"] != check["evidence"]["containers"]["stray"]


def test_port_bound_only_to_the_pod_ip_fails_localhost_with_the_fix(lab: Lab) -> None:
    node = lab(PodSpec("podip", (ContainerSpec("web", listen=("pod:8080",)), SIDECAR)))
    answer = ask_agent(node, request_for(node))
    assert answer.code == 1
    check = answer.check("localhost")
    assert check["status"] == "fail"
    assert f"web {node.plan.pods[0].ipv4}:8080 is bound only to {node.plan.pods[0].ipv4}" in check["summary"]
    assert "0.0.0.0" in check["fix"]


@pytest.mark.parametrize("extra", ["veth", "macvlan"])
def test_second_interface_warns_single_veth(lab: Lab, extra: str) -> None:
    node = lab(PodSpec("multi", (SERVER,), extra_interface=extra))  # type: ignore[arg-type]
    answer = ask_agent(node, request_for(node))
    assert answer.code == 0
    check = answer.check("single-veth")
    assert check["status"] == "warn" and f"net1 ({extra})" in check["summary"]
    assert answer.check("shared-ip")["status"] == "pass"  # eth0, not net1, carries the pod IP


def test_host_network_pod_uses_the_node_netns_and_has_no_veth(lab: Lab) -> None:
    node = lab(
        PodSpec("hostnet", (ContainerSpec("agent", listen=("0.0.0.0:18080",)),), network="host"),
        PodSpec("neighbour", (ContainerSpec("other", listen=("0.0.0.0:18081",)),), network="host"),
    )
    answer = ask_agent(node, request_for(node, 0))
    assert answer.code == 0
    report = answer.report
    assert report["pod"]["hostNetwork"] is True
    assert report["sandbox"]["netnsInode"] == report["nodeNetnsInode"]
    assert answer.statuses() == {"pause-container": "pass", "shared-netns": "pass", "shared-ip": "pass",
                                 "single-veth": "skip", "localhost": "pass", "pod-ip": "pass", "routes": "skip",
                                 "mtu": "skip"}
    # the node's other listeners are not the pod's
    assert [(l["port"], l["container"]) for l in report["listeners"]] == [(18080, "agent")]


def test_pod_without_pause_process_is_found_by_its_pinned_netns(lab: Lab) -> None:
    node = lab(PodSpec("crio", (SERVER, SIDECAR), pause=False))
    answer = ask_agent(node, request_for(node))
    assert answer.code == 0
    pod = node.plan.pods[0]
    assert answer.report["sandbox"]["source"] == "pinned-netns"
    assert answer.report["sandbox"]["pinnedPath"] == f"/run/netns/{pod.netns}"
    assert "drop_infra_ctr" in answer.report["notes"][0]
    assert answer.check("localhost")["status"] == "pass"  # listeners read through a container pid


def test_dual_stack_pod_with_v4_and_v6_listeners(lab: Lab) -> None:
    containers = (
        ContainerSpec("web", listen=("0.0.0.0:8080",)),
        ContainerSpec("api", listen=("[::]:8081",)),
        ContainerSpec("admin", listen=("[::1]:9090", "127.0.0.1:7070")),
    )
    node = lab(PodSpec("v6", containers, ipv6=True))
    answer = ask_agent(node, request_for(node))
    pod = node.plan.pods[0]
    assert answer.check("shared-ip")["status"] == "pass"
    assert answer.check("shared-ip")["evidence"]["podIPs"] == [pod.ipv4, pod.ipv6]
    eth0 = next(i for i in answer.report["interfaces"] if i["name"] == "eth0")
    assert {a["address"] for a in eth0["addresses"] if a["scope"] == "global"} == {pod.ipv4, pod.ipv6}
    listeners = {(l["address"], l["port"]): l["container"] for l in answer.report["listeners"]}
    assert listeners == {("0.0.0.0", 8080): "web", ("::", 8081): "api", ("::1", 9090): "admin",
                         ("127.0.0.1", 7070): "admin"}
    probes = {(p["target"], p["port"]): p["ok"] for p in answer.report["probes"]}
    assert probes[("::1", 8081)] and probes[("127.0.0.1", 8081)]  # [::] is dual-stack
    assert probes[("::1", 9090)] and not probes[("127.0.0.1", 9090)]
    check = answer.check("localhost")
    assert check["status"] == "warn" and "admin [::1]:9090 reachable only at [::1]:9090" in check["summary"]
    assert answer.code == 0


def test_routed_ptp_pod_has_no_bridge_and_a_host_route(lab: Lab) -> None:
    node = lab(PodSpec("routed", (SERVER, SIDECAR), network="ptp"))
    answer = ask_agent(node, request_for(node))
    assert answer.code == 0
    pod = node.plan.pods[0]
    check = answer.check("single-veth")
    assert check["status"] == "pass"
    assert check["summary"].endswith(f"routed: {pod.ipv4}/32")
    eth0 = next(i for i in answer.report["interfaces"] if i["name"] == "eth0")
    assert eth0["peer"]["master"] is None and eth0["peer"]["name"] == pod.host_veth


@pytest.mark.skipif(
    os.path.exists("/sys/fs/cgroup/cgroup.controllers"),
    reason="a pure cgroup v2 host has no v1 hierarchy to build this layout in (CI here is hybrid: it runs)",
)
def test_cgroup_v1_cgroupfs_guaranteed_and_three_containers(lab: Lab) -> None:
    containers = (SERVER, SIDECAR, ContainerSpec("metrics", listen=("0.0.0.0:9100",)))
    node = lab(PodSpec("v1", containers, cgroup="v1-cgroupfs", qos="guaranteed"))
    answer = ask_agent(node, request_for(node))
    assert answer.code == 0
    paths = [c["cgroupPath"] for c in answer.report["containers"]]
    assert all(f"/kubepods/pod{node.plan.pods[0].uid}/" in path for path in paths)
    assert {l["port"] for l in answer.report["listeners"]} == {8080, 9100}


def test_many_pods_each_find_their_own_host_veth(lab: Lab) -> None:
    node = lab(*[PodSpec(f"p{i}", (SERVER,)) for i in range(4)])
    for index, pod in enumerate(node.plan.pods):
        answer = ask_agent(node, request_for(node, index))
        eth0 = next(i for i in answer.report["interfaces"] if i["name"] == "eth0")
        assert eth0["ifindex"] == 2  # the same in every pod: peers must be matched by netnsid too
        assert eth0["peer"]["name"] == pod.host_veth and eth0["peer"]["confirmed"]


def test_without_container_names_the_agent_reports_ids_and_still_finds_pause(lab: Lab) -> None:
    node = lab(PodSpec("anon", (SERVER, SIDECAR)))
    answer = ask_agent(node, request_for(node, named=False))
    assert answer.code == 0
    pod = node.plan.pods[0]
    assert sorted(c["id"] for c in answer.report["containers"]) == sorted(pod.container_ids.values())
    assert all(c["name"] is None and c["role"] == "unknown" for c in answer.report["containers"])
    assert answer.report["sandbox"]["containerId"] == pod.sandbox_id


def test_a_container_that_died_makes_shared_netns_warn(lab: Lab) -> None:
    node = lab(PodSpec("dying", (SERVER, SIDECAR)))
    sidecar_pid = node.processes[-1].pid
    os.kill(sidecar_pid, signal.SIGKILL)
    node.processes[-1].wait()
    answer = ask_agent(node, request_for(node))
    check = answer.check("shared-netns")
    assert check["status"] == "warn" and "not running: sidecar" in check["summary"]


def test_a_pod_that_is_not_on_the_node_is_a_node_error_exit_3(lab: Lab) -> None:
    node = lab(PodSpec("here", (SERVER,)))
    request = request_for(node)
    elsewhere = request.__class__(**{**request.__dict__, "pod_uid": "0a1b2c3d-0000-4000-8000-00000000abcd"})
    answer = ask_agent(node, elsewhere)
    assert answer.code == 3
    assert answer.envelope["error"]["kind"] == "NoPodProcess"
    assert "no process of pod 0a1b2c3d-0000-4000-8000-00000000abcd" in answer.envelope["error"]["message"]


class KillingProcFS(ProcFS):
    """The real /proc; the given lab processes are killed (and reaped) right before their
    netns is first read, i.e. between the agent's cgroup scan and its netns read."""

    def __init__(self, victims: list[subprocess.Popen[bytes]]) -> None:
        super().__init__()
        self.victims = {process.pid: process for process in victims}

    def netns_inode(self, pid: int | str) -> int | None:
        victim = self.victims.pop(int(pid), None)
        if victim is not None:
            victim.kill()
            victim.wait()
        return super().netns_inode(pid)


def inspect_in_node(node: LabNode, request: InspectRequest, procfs: ProcFS) -> PodNetReport:
    """inspect_pod in this process, from a thread inside the lab node's netns (as the agent runs)."""
    fd = os.open(node.netns_path(node.plan.node_netns), os.O_RDONLY)
    try:
        return run_in_netns(fd, lambda: build_report(inspect_pod(request, procfs=procfs)))
    finally:
        os.close(fd)


def test_a_container_that_exits_between_scan_and_netns_read_is_not_running(lab: Lab) -> None:
    node = lab(PodSpec("racing", (SERVER, SIDECAR)))
    sidecar = node.processes[-1]
    report = inspect_in_node(node, request_for(node), KillingProcFS([sidecar]))
    assert sidecar.returncode is not None  # it really died mid-inspect
    by_name = {c.name: c for c in report.containers}
    assert by_name["sidecar"].pids == [] and by_name["sidecar"].netns_inode is None
    assert by_name["web"].pids and report.sandbox.source == "pause-process"
    shared = next(c for c in report.checks if c.id == "shared-netns")
    assert shared.status == "warn" and shared.summary.endswith("not running: sidecar")


def test_a_pause_that_exits_mid_inspect_leaves_the_pinned_netns_and_the_containers(lab: Lab) -> None:
    node = lab(PodSpec("nopause", (SERVER, SIDECAR)))
    pause = node.processes[0]
    report = inspect_in_node(node, request_for(node), KillingProcFS([pause]))
    assert pause.returncode is not None
    assert report.sandbox.source == "pinned-netns" and report.sandbox.pid is None
    eth0 = next(i for i in report.interfaces if i.name == "eth0")
    assert eth0.peer is not None and eth0.peer.confirmed
    assert [(l.port, l.container) for l in report.listeners] == [(8080, "web")]


def test_every_process_exiting_mid_inspect_is_the_node_error_of_a_pod_not_here(lab: Lab) -> None:
    node = lab(PodSpec("gone", (SERVER, SIDECAR)))
    with pytest.raises(NodeError, match="no process of pod .* exited while the agent looked") as caught:
        inspect_in_node(node, request_for(node), KillingProcFS(list(node.processes)))
    assert caught.value.exit_status == 3


def _without_timings(value: object) -> object:
    if isinstance(value, dict):
        return {key: _without_timings(item) for key, item in value.items() if key != "millis"}
    if isinstance(value, list):
        return [_without_timings(item) for item in value]
    return value


def test_a_batch_answered_by_parallel_workers_equals_the_batch_answered_inline(lab: Lab) -> None:
    from kubectl_podnet.node.engine import run_batch
    from kubectl_podnet.serde import to_json

    node = lab(*[PodSpec(f"w{i}", (SERVER, SIDECAR)) for i in range(5)],
               PodSpec("podip", (ContainerSpec("web", listen=("pod:8080",)), SIDECAR)))
    requests: list[object] = [to_json(request_for(node, index)) for index in range(len(node.plan.pods))]
    absent = request_for(node)
    requests.insert(2, to_json(absent.__class__(**{**absent.__dict__, "pod_uid": "0a1b2c3d-0000-4000-8000-00000000abcd"})))
    fd = os.open(node.netns_path(node.plan.node_netns), os.O_RDONLY)
    try:
        inline = run_in_netns(fd, lambda: run_batch(requests, workers=1))
        pooled = run_in_netns(fd, lambda: run_batch(requests, workers=3))
    finally:
        os.close(fd)
    assert inline[0] == pooled[0] == 3  # the worst item: the pod not on the node
    assert _without_timings(pooled[1]) == _without_timings(inline[1])
    items: list[dict[str, object]] = pooled[1]["items"]  # type: ignore[assignment]
    assert [item["exitCode"] for item in items] == [0, 0, 3, 0, 0, 0, 1]
    names = [item["report"]["pod"]["name"] for item in items if item["report"]]  # type: ignore[index]
    assert names == [node.plan.pods[i].spec.name for i in range(len(node.plan.pods))]

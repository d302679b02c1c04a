"""pod-ip, routes, mtu, UDP listeners and Multus on real namespaces, each break made for real.

Each test builds a lab node, breaks one thing the way it breaks on clusters (a server on
127.0.0.1, a deleted default route, a lowered MTU, a stale node route, a vxlan on the
bridge, a Multus interface), then runs the agent inside the node netns as the DaemonSet
would and reads its JSON answer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from kubectl_podnet.lab.spec import NODE_IP, ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode, run
from kubectl_podnet.model import AttachedNetwork, DeclaredPort
from tests.privileged.conftest import ask_agent, request_for

pytestmark = pytest.mark.privileged
Lab = Callable[..., LabNode]

SERVER = ContainerSpec("web", listen=("0.0.0.0:8080",))
HTTP = DeclaredPort(8080, "tcp", "web", "containerPort", "http")


def _in_pod(node: LabNode, index: int, *argv: str) -> None:
    netns = node.plan.pods[index].netns
    assert netns is not None
    run(["ip", "-n", netns, *argv])


def _on_node(node: LabNode, *argv: str) -> None:
    run(["ip", "-n", node.plan.node_netns, *argv])


# ---- pod-ip ---------------------------------------------------------------------------

def test_declared_port_bound_to_127_fails_pod_ip_but_passes_localhost(lab: Lab) -> None:
    node = lab(PodSpec("lo", (ContainerSpec("web", listen=("127.0.0.1:8080", "127.0.0.1:9090")),)))
    request = dataclasses.replace(request_for(node), declared_ports=[HTTP])
    answer = ask_agent(node, request)
    assert answer.code == 1
    pod_ip = node.plan.pods[0].ipv4
    check = answer.check("pod-ip")
    assert check["status"] == "fail"
    assert check["summary"].startswith(f"web 127.0.0.1:8080 is bound only to 127.0.0.1: not reachable at the pod IP "
                                       f"({pod_ip}:8080 ECONNREFUSED); declared 8080/tcp (containerPort 'http' of web)")
    assert "bind 0.0.0.0 or [::]" in check["fix"]
    # the undeclared admin port on 127.0.0.1 is noted, not failed
    assert [(p["port"], p["status"]) for p in check["evidence"]["ports"]] == [(8080, "fail"), (9090, "note")]
    dialled = {(p["target"], p["port"]): p["ok"] for p in answer.report["podIpProbes"]}
    assert dialled == {(pod_ip, 8080): False, (pod_ip, 9090): False}
    assert answer.check("localhost")["status"] == "pass"


def test_a_server_on_every_address_answers_at_the_pod_ip_from_the_node(lab: Lab) -> None:
    node = lab(PodSpec("ok", (SERVER,)), PodSpec("routed", (SERVER,), network="ptp"))
    for index in (0, 1):
        answer = ask_agent(node, dataclasses.replace(request_for(node, index), declared_ports=[HTTP]))
        pod_ip = node.plan.pods[index].ipv4
        assert answer.check("pod-ip")["summary"] == f"8080/tcp reachable at {pod_ip}:8080"
        assert answer.code == 0


def test_host_network_pod_is_dialled_at_the_node_ip(lab: Lab) -> None:
    node = lab(PodSpec("hostnet", (ContainerSpec("agent", listen=("0.0.0.0:18080", "127.0.0.1:18081")),),
                       network="host"))
    declared = [DeclaredPort(18080, "tcp", "agent", "containerPort"), DeclaredPort(18081, "tcp", "agent", "livenessProbe")]
    answer = ask_agent(node, dataclasses.replace(request_for(node), declared_ports=declared))
    check = answer.check("pod-ip")
    assert check["status"] == "fail" and f"{NODE_IP}:18081 ECONNREFUSED" in check["summary"]
    assert {(p["target"], p["port"], p["ok"]) for p in answer.report["podIpProbes"]} == {
        (NODE_IP, 18080, True), (NODE_IP, 18081, False)}


# ---- UDP ------------------------------------------------------------------------------

def test_udp_servers_are_listed_with_their_container_and_judged_from_the_bind_address(lab: Lab) -> None:
    dns = ContainerSpec("dns", listen=("udp:0.0.0.0:5353", "0.0.0.0:5353", "udp:127.0.0.1:5354", "udp:[::1]:5355"))
    node = lab(PodSpec("udp", (dns,)))
    declared = [DeclaredPort(5353, "udp", "dns", "containerPort"), DeclaredPort(5354, "udp", "dns", "containerPort")]
    answer = ask_agent(node, dataclasses.replace(request_for(node), declared_ports=declared))
    listeners = {(l["protocol"], l["address"], l["port"], l["container"]) for l in answer.report["listeners"]}
    assert listeners == {("udp", "0.0.0.0", 5353, "dns"), ("tcp", "0.0.0.0", 5353, "dns"),
                         ("udp", "127.0.0.1", 5354, "dns"), ("udp", "::1", 5355, "dns")}
    localhost = answer.check("localhost")
    assert localhost["status"] == "warn"  # [::1]:5355 only: 127.0.0.1 clients are not heard
    assert "dns [::1]:5355/udp reachable only at [::1]:5355" in localhost["summary"]
    assert "inferred from the bind address, not probed" in localhost["summary"]
    pod_ip = answer.check("pod-ip")
    assert pod_ip["status"] == "fail"  # the declared 5354/udp is on 127.0.0.1 only
    assert "dns 127.0.0.1:5354 is bound only to 127.0.0.1" in pod_ip["summary"]
    assert "inferred from the bind address" in pod_ip["summary"]
    entries = [(p["protocol"], p["port"], p["status"]) for p in pod_ip["evidence"]["ports"]]
    assert entries == [("tcp", 5353, "pass"), ("udp", 5353, "pass"), ("udp", 5354, "fail"), ("udp", 5355, "note")]
    dialled = {(p["target"], p["port"]) for p in answer.report["probes"] + answer.report["podIpProbes"]}
    assert {port for _, port in dialled} == {5353}  # only the TCP listener: UDP is never dialled
    assert answer.code == 1


# ---- routes ---------------------------------------------------------------------------

def test_a_deleted_default_route_fails_routes_with_both_routes_as_evidence(lab: Lab) -> None:
    node = lab(PodSpec("noroute", (SERVER,)))
    _in_pod(node, 0, "route", "del", "default")
    answer = ask_agent(node, request_for(node))
    assert answer.code == 1
    check = answer.check("routes")
    assert check["status"] == "fail" and check["summary"] == "no IPv4 default route in the pod netns"
    pod = node.plan.pods[0]
    assert "10.244.0.0/24 dev eth0 scope link" in check["evidence"]["podRoutes"]
    assert not any(route.startswith("default") for route in check["evidence"]["podRoutes"])
    assert check["evidence"]["nodeRoutes"] == [f"{pod.ipv4} dev cni0"]


def test_routes_pass_on_bridge_routed_and_dual_stack_pods(lab: Lab) -> None:
    node = lab(PodSpec("br", (SERVER,)), PodSpec("ptp", (SERVER,), network="ptp"), PodSpec("v6", (SERVER,), ipv6=True))
    summaries = [ask_agent(node, request_for(node, i)).check("routes") for i in range(3)]
    assert [c["status"] for c in summaries] == ["pass"] * 3, summaries
    pods = node.plan.pods
    assert summaries[1]["summary"] == (f"pod: default via 10.244.1.1 dev eth0; node: {pods[1].ipv4} dev "
                                       f"{pods[1].host_veth}")
    assert summaries[2]["evidence"]["nodeRoutes"] == [f"{pods[2].ipv4} dev cni0", f"{pods[2].ipv6} dev cni0"]


def test_a_stale_node_route_through_another_pods_veth_fails(lab: Lab) -> None:
    node = lab(PodSpec("a", (SERVER,), network="ptp"), PodSpec("b", (SERVER,), network="ptp"))
    a, b = node.plan.pods
    assert b.host_veth is not None
    _on_node(node, "route", "replace", f"{a.ipv4}/32", "dev", b.host_veth, "scope", "host")
    answer = ask_agent(node, request_for(node, 0))
    check = answer.check("routes")
    assert check["status"] == "fail"
    assert f"stale node route: {a.ipv4} dev {b.host_veth}, another pod's veth than this pod's {a.host_veth}" in \
        check["summary"]
    assert "default via 10.244.1.1 dev eth0" in check["evidence"]["podRoutes"]
    assert answer.code == 1


def test_a_missing_node_route_sends_the_pod_ip_out_of_the_uplink_and_fails(lab: Lab) -> None:
    node = lab(PodSpec("a", (SERVER,), network="ptp"))
    pod = node.plan.pods[0]
    _on_node(node, "route", "del", f"{pod.ipv4}/32")
    check = ask_agent(node, request_for(node)).check("routes")
    assert check["status"] == "fail"
    assert f"out of its uplink: {pod.ipv4} via 10.89.0.1 dev eth0" in check["summary"]


# ---- mtu ------------------------------------------------------------------------------

def test_a_lowered_eth0_mtu_fails_the_pair(lab: Lab) -> None:
    node = lab(PodSpec("small", (SERVER,)))
    _in_pod(node, 0, "link", "set", "eth0", "mtu", "1400")
    answer = ask_agent(node, request_for(node))
    check = answer.check("mtu")
    pod = node.plan.pods[0]
    assert check["status"] == "fail"
    assert check["summary"].startswith(f"eth0 mtu 1400 but its host peer {pod.host_veth} mtu 1500")
    assert check["evidence"]["hostPeer"] == {pod.host_veth: 1500} and check["evidence"]["uplink"] == {"eth0": 1500}
    assert answer.code == 1


def test_a_vxlan_port_on_the_bridge_leaves_no_room_for_a_1500_eth0(lab: Lab) -> None:
    node = lab(PodSpec("overlay", (SERVER,)))
    _on_node(node, "link", "add", "vx42", "type", "vxlan", "id", "42", "local", NODE_IP, "dstport", "4789", "dev", "eth0")
    _on_node(node, "link", "set", "vx42", "master", "cni0", "up")
    answer = ask_agent(node, request_for(node))
    check = answer.check("mtu")
    assert check["status"] == "fail"  # the bridge forwards 1500-byte frames into the tunnel, which drops them
    assert "node uplink eth0 mtu 1500 - vxlan vx42 overhead 50 = 1450" in check["summary"]
    assert answer.report["overlays"][0] == {**answer.report["overlays"][0], "name": "vx42", "kind": "vxlan",
                                            "underlayFamily": 4, "master": "cni0"}
    assert answer.code == 1


def test_mtu_passes_on_a_healthy_pod_with_every_mtu_as_evidence(lab: Lab) -> None:
    node = lab(PodSpec("fine", (SERVER,)))
    check = ask_agent(node, request_for(node)).check("mtu")
    pod = node.plan.pods[0]
    assert check["status"] == "pass"
    assert check["evidence"] == {"eth0": {"eth0": 1500}, "hostPeer": {pod.host_veth: 1500}, "uplink": {"eth0": 1500},
                                 "overlays": [], "limit": 1500}


# ---- Multus ---------------------------------------------------------------------------

def test_a_macvlan_declared_by_network_status_passes_single_veth_and_is_listed(lab: Lab) -> None:
    node = lab(PodSpec("multus", (SERVER,), extra_interface="macvlan"))
    pod = node.plan.pods[0]
    declared = [AttachedNetwork("podnet-bridge", "eth0", [pod.ipv4], default=True),
                AttachedNetwork("default/macvlan-conf", "net1")]
    answer = ask_agent(node, dataclasses.replace(request_for(node), networks=declared))
    check = answer.check("single-veth")
    assert check["status"] == "pass"
    assert check["summary"].endswith("; networks: net1 (macvlan, no IP, network default/macvlan-conf)")
    assert [(n["interface"], n["kind"], n["present"]) for n in check["evidence"]["networks"]] == [
        ("eth0", "veth", True), ("net1", "macvlan", True)]
    assert answer.code == 0

    missing = declared + [AttachedNetwork("default/sriov-net", "net2", ["192.168.2.5"])]
    answer = ask_agent(node, dataclasses.replace(request_for(node), networks=missing))
    check = answer.check("single-veth")
    assert check["status"] == "fail" and "missing from the netns: net2 (default/sriov-net)" in check["summary"]
    assert answer.code == 1

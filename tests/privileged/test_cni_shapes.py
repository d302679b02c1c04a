"""Each CNI's wiring, built for real in a lab node, judged as that CNI means it.

The lab modes build each shape from the CNI's documented wiring (lab/plan.py, sources in
docs/cni.md); these tests break each one the ways clusters of that CNI break (a lost /32,
a stale route through another pod's veth, an MTU too big for the tunnel) and read the
agent's answer as the DaemonSet would get it. Cilium's eBPF delivery cannot run here: the
lab stands in with a TCP-only policy rule (plan.py says how) while `ip route get`, what
`routes` reads, sees exactly what Cilium leaves on a node. IP-in-IP, WireGuard and geneve
devices cannot be made on this kernel (no modules): their overheads are unit-tested on facts
(tests/unit/test_checks_cni.py).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from kubectl_podnet.lab.modes import LabMode, find_mode
from kubectl_podnet.lab.session import build_mode
from kubectl_podnet.lab.spec import CILIUM_ROUTER, ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode, run
from tests.privileged.conftest import TEST_PREFIX, AgentAnswer, ask_agent, request_for

pytestmark = pytest.mark.privileged

HEALTHY = ("kindnet", "calico", "cilium", "aws-vpc", "azure")
SERVER = ContainerSpec("web", listen=("0.0.0.0:8080",), ports=(8080,))
# what the node's route to a healthy pod leaves by, per shape ("veth": the pod's own host veth)
DELIVERED_BY = {"kindnet": "veth", "calico": "veth", "cilium": "cilium_host", "aws-vpc": "veth", "azure": "veth"}


@pytest.fixture
def shape() -> Iterator[list[LabNode]]:
    nodes: list[LabNode] = []
    try:
        yield nodes
    finally:
        for node in nodes:
            node.teardown()


def _mode(nodes: list[LabNode], name: str) -> LabNode:
    node = build_mode(find_mode(name), f"{TEST_PREFIX}{secrets.token_hex(3)}")
    nodes.append(node)
    return node


def _two_pods(nodes: list[LabNode], mode: LabMode) -> LabNode:
    network = mode.pods()[0].network
    node = LabNode(f"{TEST_PREFIX}{secrets.token_hex(3)}", [PodSpec("a", (SERVER,), network=network),
                                                          PodSpec("b", (SERVER,), network=network)], mode.cni_config)
    nodes.append(node)
    node.build()
    return node


def _on_node(node: LabNode, *argv: str) -> None:
    run(["ip", "-n", node.plan.node_netns, *argv])


def _in_pod(node: LabNode, *argv: str, index: int = 0) -> None:
    netns = node.plan.pods[index].netns
    assert netns is not None
    run(["ip", "-n", netns, *argv])


def _ask(node: LabNode, index: int = 0) -> AgentAnswer:
    return ask_agent(node, request_for(node, index))


@pytest.mark.parametrize("name", HEALTHY)
def test_a_healthy_pod_of_each_cni_passes_every_check_and_names_its_cni(shape: list[LabNode], name: str) -> None:
    node = _mode(shape, name)
    answer = _ask(node)
    assert answer.code == 0 and "fail" not in answer.statuses().values(), answer.report["checks"]
    assert answer.report["cni"]["family"] == name
    pod = node.plan.pods[0]
    device = pod.host_veth if DELIVERED_BY[name] == "veth" else DELIVERED_BY[name]
    assert f"node: {pod.ipv4}" in answer.check("routes")["summary"] and f"dev {device}" in answer.check("routes")[
        "summary"]
    assert answer.check("single-veth")["status"] == "pass"


def test_cilium_is_named_from_its_devices_alone_and_its_tunnel_counts_without_a_route(shape: list[LabNode]) -> None:
    node = _mode(shape, "cilium")
    # no config at all: the devices still say Cilium, and the eBPF tunnel is on the pod's path
    run(["rm", "-f", f"/run/podnet-lab/{node.plan.prefix}.net.d/05-cilium.conflist"])
    answer = _ask(node)
    cni = answer.report["cni"]
    assert (cni["family"], cni["mode"], cni["tunnels"], cni["config"]) == ("cilium", "vxlan", ["cilium_vxlan"], None)
    mtu = answer.check("mtu")
    assert mtu["status"] == "pass" and "default route mtu 1450" in mtu["summary"]
    assert "vxlan cilium_vxlan overhead 50 = 1450" in mtu["summary"]
    assert mtu["evidence"]["pathMtu"] == 1450
    assert "Cilium" in answer.check("single-veth")["summary"]


def test_cilium_native_routing_has_no_tunnel_and_a_1500_route_passes(shape: list[LabNode]) -> None:
    node = _mode(shape, "cilium")
    _on_node(node, "link", "del", "cilium_vxlan")
    _in_pod(node, "route", "replace", "default", "via", CILIUM_ROUTER, "dev", "eth0")
    answer = _ask(node)
    assert answer.report["cni"]["mode"] == "native" and answer.check("mtu")["status"] == "pass"
    assert answer.code == 0


def test_cilium_with_endpoint_routes_passes_through_the_pods_own_lxc(shape: list[LabNode]) -> None:
    node = _mode(shape, "cilium")
    pod = node.plan.pods[0]
    assert pod.host_veth is not None
    _on_node(node, "route", "add", f"{pod.ipv4}/32", "dev", pod.host_veth, "scope", "link")
    routes = _ask(node).check("routes")
    assert routes["status"] == "pass" and f"node: {pod.ipv4} dev {pod.host_veth}" in routes["summary"]


@pytest.mark.parametrize("name", HEALTHY)
def test_a_stale_route_through_another_pods_veth_fails_on_every_cni(shape: list[LabNode], name: str) -> None:
    node = _two_pods(shape, find_mode(name))
    a, b = node.plan.pods
    assert b.host_veth is not None
    _on_node(node, "route", "replace", f"{a.ipv4}/32", "dev", b.host_veth, "scope", "link")
    answer = _ask(node, 0)
    routes = answer.check("routes")
    assert routes["status"] == "fail" and answer.code == 1
    assert f"stale node route: {a.ipv4} dev {b.host_veth}, another pod's veth than this pod's {a.host_veth}" in \
        routes["summary"]
    assert f"ip route del {a.ipv4} dev {b.host_veth}" in routes["fix"]
    assert _ask(node, 1).check("routes")["status"] == "pass"  # the other pod is fine


def test_calico_without_the_pods_route_falls_into_the_block_blackhole(shape: list[LabNode]) -> None:
    node = _mode(shape, "calico-noroute")
    answer = _ask(node)
    routes, pod_ip = answer.check("routes"), answer.check("pod-ip")
    assert routes["status"] == "fail" and "blackhole 10.244.64.0/26" in routes["summary"]
    assert "IPAM block" in routes["summary"] and "has no route" not in routes["summary"]
    assert "restart calico-node" in routes["fix"] and "delete it" not in routes["fix"]
    assert answer.report["nodeRoutes"][0]["matched"]["type"] == "blackhole"
    # one story: pod-ip failed for the same reason, and says so instead of blaming a firewall
    assert pod_ip["status"] == "fail" and "(see routes)" in pod_ip["summary"]
    assert "firewall" not in pod_ip["fix"] and "calico-node" in pod_ip["fix"]
    assert "no route of its own" in answer.check("single-veth")["summary"]


def test_an_unreachable_route_for_the_block_is_named_but_not_called_calicos_blackhole(shape: list[LabNode]) -> None:
    node = _mode(shape, "calico-noroute")
    _on_node(node, "route", "replace", "unreachable", "10.244.64.0/26")
    routes = _ask(node).check("routes")
    assert routes["status"] == "fail" and "`unreachable 10.244.64.0/26`" in routes["summary"]
    assert "EHOSTUNREACH" in routes["summary"] and "IPAM block" not in routes["summary"]


def test_calico_pods_at_1500_over_vxlan_fail_mtu_with_calicos_own_setting(shape: list[LabNode]) -> None:
    node = _mode(shape, "calico")
    pod = node.plan.pods[0]
    assert pod.host_veth is not None
    _in_pod(node, "link", "set", "eth0", "mtu", "1500")
    _on_node(node, "link", "set", pod.host_veth, "mtu", "1500")
    mtu = _ask(node).check("mtu")
    assert mtu["status"] == "fail" and "vxlan vxlan.calico overhead 50 = 1450" in mtu["summary"]
    assert "veth_mtu" in mtu["fix"] and "1450" in mtu["fix"]


def test_cilium_routemtu_fails_mtu_and_nothing_else(shape: list[LabNode]) -> None:
    node = _mode(shape, "cilium-routemtu")
    answer = _ask(node)
    assert [c for c, s in answer.statuses().items() if s == "fail"] == ["mtu"]
    mtu = answer.check("mtu")
    assert "no mtu of its own" in mtu["summary"] and "cilium_vxlan" in mtu["summary"]
    assert "cilium-config" in mtu["fix"]


def test_aws_without_the_pods_route_sends_it_out_of_the_uplink_and_says_restart_aws_node(
        shape: list[LabNode]) -> None:
    node = _mode(shape, "aws-vpc")
    pod = node.plan.pods[0]
    _on_node(node, "route", "del", f"{pod.ipv4}/32")
    routes = _ask(node).check("routes")
    assert routes["status"] == "fail" and f"out of its uplink: {pod.ipv4} dev eth0" in routes["summary"]
    assert "aws-node" in routes["fix"]

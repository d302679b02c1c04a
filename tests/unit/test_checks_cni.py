"""Each CNI judged as it means its wiring, facts in, verdicts out: identification, the
tunnels this kernel cannot build for the privileged tier (IP-in-IP, WireGuard, geneve), the
CNI config parser, and the fixes in each CNI's own terms."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from kubectl_podnet.checks.path import check_mtu, check_routes, overlay_overhead
from kubectl_podnet.checks.reach import check_pod_ip
from kubectl_podnet.checks.sandbox import check_single_veth
from kubectl_podnet.cni import FAMILIES, describe, identify
from kubectl_podnet.model import (
    Address,
    CniConfig,
    DeclaredPort,
    Listener,
    NodeFacts,
    NodeLink,
    OverlayLink,
    Peer,
    Probe,
    Route,
    RouteLookup,
)
from kubectl_podnet.node.cniconf import parse_cni_config
from tests.factories import LO, eth0, healthy

POD_IP = "10.244.64.10"


def _link(name: str, kind: str = "veth", pod_side: bool = False) -> NodeLink:
    return NodeLink(ifindex=hash(name) % 1000 + 10, name=name, kind=kind, mtu=1500, link_netnsid=0 if pod_side else None)


# ---- identify -------------------------------------------------------------------------

@pytest.mark.parametrize(("links", "family"), [
    ([_link("cilium_host"), _link("cilium_net"), _link("lxc0123456789ab", pod_side=True)], "cilium"),
    ([_link("vxlan.calico", "vxlan"), _link("cali0123456789a", pod_side=True)], "calico"),
    ([_link("cali0123456789a", pod_side=True)], "calico"),  # BGP mode: only its veths say so
    ([_link("flannel.1", "vxlan"), _link("cni0", "bridge")], "flannel"),
    ([_link("eni0123456789a", pod_side=True)], "aws-vpc"),
    ([_link("azv0123456789a", pod_side=True)], "azure"),
    ([_link("cni0", "bridge"), _link("veth01234567", pod_side=True)], "bridge"),
    ([_link("veth01234567", pod_side=True)], "unknown"),
])
def test_the_devices_name_the_cni(links: list[NodeLink], family: str) -> None:
    assert identify(links, [], None).family == family


def test_a_config_names_the_cni_when_no_device_does_and_kindnet_by_its_name() -> None:
    kindnet = CniConfig("10-kindnet.conflist", "kindnet", ["ptp", "portmap"])
    assert identify([_link("veth01234567", pod_side=True)], [], kindnet).family == "kindnet"
    plain = CniConfig("10-ptp.conflist", "mynet", ["ptp"])
    assert identify([], [], plain).family == "ptp"


def test_devices_outrank_a_config_that_names_another_cni_and_the_evidence_says_both() -> None:
    leftover = CniConfig("10-flannel.conflist", "cbr0", ["flannel", "portmap"])
    cni = identify([_link("cilium_host"), _link("cilium_vxlan", "vxlan")], [], leftover)
    assert cni.family == "cilium" and cni.mode == "vxlan"
    assert any("which names flannel" in line for line in cni.evidence)


def test_calicos_mode_follows_its_tunnels_and_the_fallback_tunl0_does_not_count() -> None:
    tunl0 = _link("tunl0", "ipip")
    cali = _link("cali0123456789a", pod_side=True)
    assert identify([tunl0, cali], [], None).mode == "bgp"  # a down fallback tunl0 carries nothing
    routed = OverlayLink("tunl0", "ipip", 1480, 4, routes=["10.244.65.0/26"])
    assert identify([tunl0, cali], [routed], None).mode == "ipip"
    assert describe(identify([tunl0, cali], [routed], None)) == "Calico (ipip)"


def test_every_family_names_a_source_and_a_fix() -> None:
    for family in FAMILIES:
        assert family.source and family.restore_route and "LIMIT" in family.set_mtu, family.name


# ---- the CNI config -------------------------------------------------------------------

def test_a_conflist_gives_its_name_and_plugin_types_in_chain_order() -> None:
    text = '{"name": "k8s-pod-network", "plugins": [{"type": "calico"}, {"type": "bandwidth"}, {"type": "portmap"}]}'
    assert parse_cni_config("10-calico.conflist", text) == CniConfig("10-calico.conflist", "k8s-pod-network",
                                                                     ["calico", "bandwidth", "portmap"])
    assert parse_cni_config("10-bridge.conf", '{"name": "br", "type": "bridge"}') == CniConfig(
        "10-bridge.conf", "br", ["bridge"])


@pytest.mark.parametrize("text", ["", "[]", "{", '{"plugins": "calico"}', '{"name": "x", "plugins": [{}]}'])
def test_a_file_that_is_no_cni_config_is_none(text: str) -> None:
    assert parse_cni_config("x.conf", text) is None


# ---- routes ---------------------------------------------------------------------------

CALICO = identify([_link("vxlan.calico", "vxlan"), _link("cali0123456789a", pod_side=True)], [], None)
CILIUM = identify([_link("cilium_host"), _link("cilium_vxlan", "vxlan"), _link("lxc0123456789ab", pod_side=True)],
                  [], None)
CALI_PEER = Peer(ifindex=7, name="cali0123456789a", kind="veth", confirmed=True, routes=[f"{POD_IP}/32"], mtu=1450)
LXC_PEER = Peer(ifindex=7, name="lxc0123456789ab", kind="veth", confirmed=True, mtu=1500)


def _calico(**changes: Any) -> NodeFacts:
    pod = dataclasses.replace(healthy().pod, pod_ips=[POD_IP], node="node-a")
    iface = dataclasses.replace(eth0(peer=CALI_PEER, addresses=[Address(POD_IP, 32, 4, "global")]), mtu=1450)
    routes = [Route("169.254.1.1/32", None, "eth0", "link", 4), Route("default", "169.254.1.1", "eth0", "global", 4)]
    lookup = RouteLookup(POD_IP, "unicast", CALI_PEER.name, 7, "veth", peer_elsewhere=True)
    shape: dict[str, Any] = {"pod": pod, "interfaces": [LO, iface], "routes": routes, "node_routes": [lookup],
                             "cni": CALICO}
    return healthy(**{**shape, **changes})


def test_a_calico_pod_routed_by_its_cali_veth_passes() -> None:
    result = check_routes(_calico())
    assert result.status == "pass" and result.evidence["cni"] == "calico"


def test_calicos_blackhole_is_named_with_calicos_fix_and_the_node_in_it() -> None:
    blackhole = Route("10.244.64.0/26", None, None, "global", 4, type="blackhole")
    lost = RouteLookup(POD_IP, "unreachable", None, None, None, error="EINVAL", matched=blackhole)
    result = check_routes(_calico(node_routes=[lost]))
    assert result.status == "fail"
    assert "falls to `blackhole 10.244.64.0/26` (EINVAL), the blackhole Calico keeps" in result.summary
    assert result.fix and "spec.nodeName=node-a" in result.fix and "ip route del" not in result.fix


def test_pod_ip_blames_the_missing_route_not_a_firewall() -> None:
    blackhole = Route("10.244.64.0/26", None, None, "global", 4, type="blackhole")
    lost = RouteLookup(POD_IP, "unreachable", None, None, None, error="EINVAL", matched=blackhole)
    facts = _calico(node_routes=[lost], listeners=[Listener(4, "0.0.0.0", 8080, 1, "web")],
                    pod_ip_probes=[Probe(POD_IP, 8080, False, "EINVAL", 0.1)])
    facts = dataclasses.replace(facts, pod=dataclasses.replace(
        facts.pod, declared_ports=[DeclaredPort(8080, "tcp", "web", "containerPort")]))
    result = check_pod_ip(facts)
    assert result.status == "fail" and "(see routes)" in result.summary
    assert result.fix and result.fix.startswith("restore the node's route to the pod first") and \
        "firewall" not in result.fix


def test_cilium_delivers_through_cilium_host_and_says_what_it_cannot_see() -> None:
    pod = dataclasses.replace(healthy().pod, pod_ips=["10.0.1.55"])
    iface = eth0(peer=LXC_PEER, addresses=[Address("10.0.1.55", 32, 4, "global")])
    routes = [Route("10.0.1.1/32", None, "eth0", "link", 4), Route("default", "10.0.1.1", "eth0", "global", 4, mtu=1450)]
    lookup = RouteLookup("10.0.1.55", "unicast", "cilium_host", 4, "veth", gateway="10.0.1.1")
    facts = healthy(pod=pod, interfaces=[LO, iface], routes=routes, node_routes=[lookup], cni=CILIUM,
                    overlays=[OverlayLink("cilium_vxlan", "vxlan", 1500, 4)])
    result = check_routes(facts)
    assert result.status == "pass" and "cilium-dbg bpf endpoint list" in result.summary
    assert "default via 10.0.1.1 dev eth0 mtu 1450" in result.summary
    veth = check_single_veth(facts)
    assert veth.status == "pass" and "routed by Cilium" in veth.summary
    mtu = check_mtu(facts)
    assert mtu.status == "pass" and "default route mtu 1450" in mtu.summary and mtu.evidence["pathMtu"] == 1450
    # without Cilium's devices to say so, the same lookup is no delivery we know
    assert check_routes(dataclasses.replace(facts, cni=None)).status == "warn"


# ---- mtu over tunnels this kernel cannot build ----------------------------------------

@pytest.mark.parametrize(("overlay", "overhead"), [
    (OverlayLink("tunl0", "ipip", 1480, 4, routes=["10.244.65.0/26"]), 20),
    (OverlayLink("wireguard.cali", "wireguard", 1440, 4, routes=["10.244.65.0/26"]), 60),
    (OverlayLink("wg-v6.cali", "wireguard", 1420, 6, routes=["fd00:65::/122"]), 80),
    (OverlayLink("genev_sys_6081", "geneve", 1500, 4, routes=["10.244.65.0/24"]), 50),
])
def test_each_tunnel_kind_takes_its_own_overhead(overlay: OverlayLink, overhead: int) -> None:
    assert overlay_overhead(overlay) == overhead
    limit = 1500 - overhead
    fits = _calico(overlays=[overlay], interfaces=[
        LO, dataclasses.replace(eth0(peer=dataclasses.replace(CALI_PEER, mtu=limit)), mtu=limit)])
    assert check_mtu(fits).status == "pass"
    too_big = dataclasses.replace(fits, interfaces=[
        LO, dataclasses.replace(eth0(peer=dataclasses.replace(CALI_PEER, mtu=1500)), mtu=1500)])
    result = check_mtu(too_big)
    assert result.status == "fail" and f"overhead {overhead} = {limit}" in result.summary
    assert result.fix and f"{limit} or less" in result.fix and "veth_mtu" in result.fix

"""`routes` and `mtu`: every pass / warn / fail / skip path, facts in, verdicts out."""

from __future__ import annotations

import dataclasses

from kubectl_podnet.checks.path import check_mtu, check_routes
from kubectl_podnet.model import Address, Interface, NodeFacts, NodeLink, OverlayLink, Peer, Route, RouteLookup
from tests.factories import LO, eth0, healthy

PEER = Peer(ifindex=7, name="veth3a1f09c2", kind="veth", confirmed=True, master="cni0", master_kind="bridge", mtu=1500)
ROUTED = Peer(ifindex=7, name="veth3a1f09c2", kind="veth", confirmed=True, routes=["10.244.1.5/32"], mtu=1500)


def _dual_stack(**changes: object) -> NodeFacts:
    pod = dataclasses.replace(healthy().pod, pod_ips=["10.244.1.5", "fd00::5"])
    iface = eth0(addresses=[Address("10.244.1.5", 24, 4, "global"), Address("fd00::5", 64, 6, "global"),
                            Address("fe80::1", 64, 6, "link")])
    return healthy(pod=pod, interfaces=[LO, iface], **changes)


# ---- routes: the pod side ---------------------------------------------------------------

def test_default_route_via_a_connected_gateway_and_the_node_route_via_the_bridge_pass() -> None:
    result = check_routes(healthy())
    assert result.status == "pass"
    assert result.summary == "pod: default via 10.244.1.1 dev eth0; node: 10.244.1.5 dev cni0"
    assert result.evidence["expectedNodeDevices"] == ["veth3a1f09c2", "cni0"]


def test_routed_cni_with_an_onlink_or_link_scope_gateway_passes() -> None:
    facts = healthy(interfaces=[LO, eth0(peer=ROUTED)],
                    node_routes=[RouteLookup("10.244.1.5", "unicast", "veth3a1f09c2", 7, "veth")])
    onlink = [Route("default", "169.254.1.1", "eth0", "global", 4, onlink=True)]
    assert check_routes(dataclasses.replace(facts, routes=onlink)).status == "pass"
    link_scope = [Route("169.254.1.1/32", None, "eth0", "link", 4), Route("default", "169.254.1.1", "eth0", "global", 4)]
    result = check_routes(dataclasses.replace(facts, routes=link_scope))
    assert result.status == "pass" and "node: 10.244.1.5 dev veth3a1f09c2" in result.summary


def test_ipv6_default_route_via_a_link_local_gateway_passes() -> None:
    routes = [Route("default", "10.244.1.1", "eth0", "global", 4), Route("default", "fe80::1", "eth0", "global", 6)]
    lookups = [RouteLookup("10.244.1.5", "unicast", "cni0", 5, "bridge"),
               RouteLookup("fd00::5", "unicast", "cni0", 5, "bridge")]
    assert check_routes(_dual_stack(routes=routes, node_routes=lookups)).status == "pass"


def test_a_deleted_default_route_fails_with_both_sides_as_evidence() -> None:
    result = check_routes(healthy(routes=[Route("10.244.1.0/24", None, "eth0", "link", 4)]))
    assert result.status == "fail" and result.summary == "no IPv4 default route in the pod netns"
    assert result.evidence["podRoutes"] == ["10.244.1.0/24 dev eth0 scope link"]
    assert result.evidence["nodeRoutes"] == ["10.244.1.5 dev cni0"]
    assert result.fix and "recreate the pod" in result.fix


def test_missing_ipv6_default_route_in_a_dual_stack_pod_fails() -> None:
    lookups = [RouteLookup(ip, "unicast", "cni0", 5, "bridge") for ip in ("10.244.1.5", "fd00::5")]
    result = check_routes(_dual_stack(node_routes=lookups))
    assert result.status == "fail" and result.summary == "no IPv6 default route in the pod netns"


def test_gateway_that_is_not_on_link_fails() -> None:
    routes = [Route("default", "10.99.0.1", "eth0", "global", 4)]
    result = check_routes(healthy(routes=routes))
    assert result.status == "fail" and "gateway 10.99.0.1 is not on-link" in result.summary


def test_default_route_out_of_another_interface_fails() -> None:
    net1 = Interface(3, "net1", "macvlan", 1500, "up", None, [Address("192.168.1.20", 24, 4, "global")])
    routes = [Route("default", "192.168.1.1", "net1", "global", 4)]
    result = check_routes(healthy(interfaces=[LO, eth0(), net1], routes=routes))
    assert result.status == "fail" and "leaves by net1, not eth0" in result.summary


def test_a_device_default_route_without_gateway_passes() -> None:
    assert check_routes(healthy(routes=[Route("default", None, "eth0", "link", 4)])).status == "pass"


# ---- routes: the node side ------------------------------------------------------------

def test_stale_node_route_through_another_veth_fails() -> None:
    stale = [RouteLookup("10.244.1.5", "unicast", "veth99887766", 12, "veth", peer_elsewhere=True)]
    result = check_routes(healthy(interfaces=[LO, eth0(peer=ROUTED)], node_routes=stale))
    assert result.status == "fail"
    assert "stale node route: 10.244.1.5 dev veth99887766, another pod's veth than this pod's veth3a1f09c2" in \
        result.summary
    assert result.evidence["podRoutes"][0] == "default via 10.244.1.1 dev eth0"
    assert result.evidence["nodeRoutes"] == ["10.244.1.5 dev veth99887766"]
    assert result.fix and "ip route del 10.244.1.5 dev veth99887766" in result.fix


def test_a_veth_whose_peer_stays_in_the_node_netns_is_not_called_stale() -> None:
    # cilium_host/cilium_net are such a pair: without Cilium's devices to say so, a warning, not a stale route
    lookups = [RouteLookup("10.244.1.5", "unicast", "cilium_host", 4, "veth", gateway="10.244.1.1")]
    result = check_routes(healthy(interfaces=[LO, eth0(peer=ROUTED)], node_routes=lookups))
    assert result.status == "warn" and "stale" not in result.summary


def test_node_route_out_of_the_uplink_means_no_route_to_the_pod_and_fails() -> None:
    lookups = [RouteLookup("10.244.1.5", "unicast", "ens3", 2, "device", gateway="192.0.2.1")]
    result = check_routes(healthy(interfaces=[LO, eth0(peer=ROUTED)], node_routes=lookups))
    assert result.status == "fail" and "out of its uplink: 10.244.1.5 via 192.0.2.1 dev ens3" in result.summary


def test_unreachable_or_local_answers_fail() -> None:
    unreachable = [RouteLookup("10.244.1.5", "unreachable", None, None, None, error="ENETUNREACH")]
    assert check_routes(healthy(node_routes=unreachable)).status == "fail"
    local = [RouteLookup("10.244.1.5", "local", "lo", 1, "loopback")]
    result = check_routes(healthy(node_routes=local))
    assert result.status == "fail" and "also a node address" in result.summary


def test_node_route_through_another_kind_of_device_warns() -> None:
    lookups = [RouteLookup("10.244.1.5", "unicast", "cilium_host", 4, "veth-less")]
    result = check_routes(healthy(interfaces=[LO, eth0(peer=ROUTED)], node_routes=lookups))
    assert result.status == "warn" and "cilium_host" in result.summary and "eBPF" in result.summary


def test_unknown_host_peer_or_no_lookup_leaves_the_node_side_unjudged_with_a_warning() -> None:
    unknown = Peer(ifindex=7, name=None, kind=None, confirmed=False, reason="gone")
    assert check_routes(healthy(interfaces=[LO, eth0(peer=unknown)])).status == "warn"
    assert check_routes(healthy(node_routes=[])).status == "warn"


def test_routes_skips_host_network_and_no_address_and_fails_without_eth0() -> None:
    host = dataclasses.replace(healthy().pod, host_network=True)
    assert check_routes(healthy(pod=host)).status == "skip"
    no_ip = dataclasses.replace(healthy().pod, pod_ips=[])
    assert check_routes(healthy(pod=no_ip, interfaces=[LO, eth0(addresses=[])])).status == "skip"
    assert check_routes(healthy(interfaces=[LO])).status == "fail"


# ---- mtu ------------------------------------------------------------------------------

def _mtu(eth0_mtu: int = 1500, peer_mtu: int | None = 1500, uplink: int | None = 1500,
         overlays: list[OverlayLink] | None = None, peer: Peer = PEER) -> NodeFacts:
    iface = dataclasses.replace(eth0(peer=dataclasses.replace(peer, mtu=peer_mtu)), mtu=eth0_mtu)
    return healthy(interfaces=[LO, iface], uplink=NodeLink(2, "ens3", "device", uplink) if uplink else None,
                   overlays=overlays or [])


def test_mtu_pair_agreeing_and_fitting_the_uplink_passes_with_every_mtu_as_evidence() -> None:
    result = check_mtu(_mtu())
    assert result.status == "pass"
    assert result.summary == "eth0 mtu 1500 = veth3a1f09c2 (host); fits node uplink ens3 mtu 1500"
    assert result.evidence == {"eth0": {"eth0": 1500}, "hostPeer": {"veth3a1f09c2": 1500},
                               "uplink": {"ens3": 1500}, "overlays": [], "limit": 1500}


def test_veth_pair_with_different_mtus_fails() -> None:
    result = check_mtu(_mtu(eth0_mtu=1400))
    assert result.status == "fail" and "eth0 mtu 1400 but its host peer veth3a1f09c2 mtu 1500" in result.summary
    assert result.fix and "ip link set veth3a1f09c2 mtu 1400" in result.fix


def test_eth0_above_the_uplink_warns() -> None:
    result = check_mtu(_mtu(uplink=1400))
    assert result.status == "warn" and "eth0 mtu 1500 > node uplink ens3 mtu 1400" in result.summary


def test_vxlan_port_of_the_bridge_takes_50_bytes_over_ipv4() -> None:
    vxlan = OverlayLink("vxlan0", "vxlan", 1500, 4, master="cni0")
    result = check_mtu(_mtu(overlays=[vxlan]))
    assert result.status == "fail"  # a bridge forwards into the tunnel and drops what does not fit, no ICMP
    assert "node uplink ens3 mtu 1500 - vxlan vxlan0 overhead 50 = 1450" in result.summary
    assert "dropped in the tunnel" in result.summary and result.fix and "1450" in result.fix
    assert check_mtu(_mtu(eth0_mtu=1450, peer_mtu=1450, overlays=[vxlan])).status == "pass"


def test_geneve_routed_into_over_ipv6_takes_70_bytes() -> None:
    geneve = OverlayLink("genev_sys_6081", "geneve", 1500, 6, routes=["10.244.2.0/24"])
    result = check_mtu(_mtu(eth0_mtu=1450, peer_mtu=1450, overlays=[geneve], peer=ROUTED))
    assert result.status == "fail" and "overhead 70 = 1430" in result.summary
    assert result.evidence["overlays"] == [{"name": "genev_sys_6081", "kind": "geneve", "mtu": 1500, "overhead": 70}]


def test_an_overlay_device_with_a_smaller_mtu_is_the_limit() -> None:
    flannel = OverlayLink("flannel.1", "vxlan", 1400, 4, routes=["10.244.2.0/24"])
    result = check_mtu(_mtu(eth0_mtu=1450, peer_mtu=1450, overlays=[flannel]))
    assert result.status == "fail" and "vxlan flannel.1 mtu 1400" in result.summary


def test_an_overlay_off_the_pods_path_is_ignored() -> None:
    elsewhere = OverlayLink("vxlan9", "vxlan", 1500, 4, master="br-other")
    assert check_mtu(_mtu(overlays=[elsewhere])).status == "pass"


def test_no_uplink_or_unknown_peer_still_judges_what_it_can() -> None:
    no_uplink = check_mtu(_mtu(uplink=None))
    assert no_uplink.status == "pass" and "no uplink to compare with" in no_uplink.summary
    unknown = Peer(ifindex=7, name=None, kind=None, confirmed=False)
    result = check_mtu(_mtu(peer=unknown, uplink=1400))
    assert result.status == "warn" and result.evidence["hostPeer"] == {}


def test_mtu_skips_host_network_and_a_pod_without_eth0() -> None:
    host = dataclasses.replace(healthy().pod, host_network=True)
    assert check_mtu(healthy(pod=host)).status == "skip"
    assert check_mtu(healthy(interfaces=[LO])).status == "skip"


def test_an_uplink_that_is_itself_a_veth_is_still_the_uplink() -> None:
    lookups = [RouteLookup("10.244.1.5", "unicast", "eth0", 2, "veth", gateway="10.89.0.1")]
    facts = healthy(interfaces=[LO, eth0(peer=ROUTED)], node_routes=lookups, uplink=NodeLink(2, "eth0", "veth", 1500))
    assert "out of its uplink" in check_routes(facts).summary

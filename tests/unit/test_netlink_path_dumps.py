"""The node-path parsers on dumps recorded from a real lab node (tests/samples/netlink, record_path.py).

Route lookups are the kernel's own RTM_GETROUTE answers; the uplink and the overlays come
from the node's link and route dumps (two vxlan devices: one a port of cni0 over IPv4,
one routed into over IPv6).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kubectl_podnet.model import NodeLink, OverlayLink, RouteLookup
from kubectl_podnet.node import netlink, rtnl_path

SAMPLES = Path(__file__).parent.parent / "samples" / "netlink"
META: dict[str, Any] = json.loads((SAMPLES / "pathmeta.json").read_text())


@cache
def dump(name: str) -> list[Any]:
    text = (SAMPLES / f"{name}.dump").read_text()
    return netlink.decode_dump(bytes.fromhex("".join(l for l in text.splitlines() if not l.startswith("#"))))


def lookup(name: str) -> RouteLookup:
    (answer,) = dump(f"routeget.{name}.answer")
    links = rtnl_path.parse_node_links(dump("pathnode.links"))
    return rtnl_path.parse_route_lookup(META["destinations"][name], answer, None, links.get(answer.get("oif")))


@pytest.mark.parametrize(("name", "dev", "kind"), [
    ("bridge", "cni0", "bridge"), ("dualstack6", "cni0", "bridge"), ("overlay", "vx6", "vxlan"),
])
def test_route_to_a_pod_ip_names_the_out_device_and_its_kind(name: str, dev: str, kind: str) -> None:
    found = lookup(name)
    assert (found.type, found.dev, found.kind, found.gateway, found.error) == ("unicast", dev, kind, None, None)


def test_a_routed_pod_is_reached_through_its_own_host_veth() -> None:
    found = lookup("ptp")
    assert (found.dev, found.kind) == (META["hostVeths"]["ptp"], "veth")


def test_an_address_outside_leaves_by_the_default_route_and_a_node_address_is_local() -> None:
    outside = lookup("outside")
    assert (outside.dev, outside.gateway, outside.type) == (META["uplink"], META["nodeGateway"], "unicast")
    assert lookup("local").type == "local"


def test_no_answer_is_an_unreachable_lookup_with_the_error() -> None:
    assert rtnl_path.parse_route_lookup("10.1.2.3", None, "ENETUNREACH", None) == RouteLookup(
        "10.1.2.3", "unreachable", None, None, None, error="ENETUNREACH")


def test_the_uplink_is_the_default_routes_device() -> None:
    uplink = rtnl_path.parse_uplink(dump("pathnode.links"), dump("pathnode.routes"))
    assert uplink is not None and (uplink.name, uplink.kind, uplink.mtu) == (META["uplink"], "veth", 1500)
    # the older node recording has no default route: no uplink
    assert rtnl_path.parse_uplink(dump("node.links"), dump("node.routes")) is None


def test_overlays_name_their_bridge_their_routes_and_their_underlay_family() -> None:
    overlays = rtnl_path.parse_overlays(dump("pathnode.links"), dump("pathnode.routes"))
    assert overlays == [
        OverlayLink("vx42", "vxlan", 1450, 4, master="cni0", routes=[]),
        OverlayLink("vx6", "vxlan", 1430, 6, master=None, routes=["10.244.9.0/24"]),
    ]
    assert rtnl_path.parse_overlays(dump("node.links"), dump("node.routes")) == []


def test_default_route_prefers_ipv4_and_takes_a_multipath_routes_first_hop() -> None:
    v6 = {"table": 254, "type": 1, "dst_len": 0, "family": 10, "oif": 7}
    multipath = {"table": 254, "type": 1, "dst_len": 0, "family": 2, "multipath": [{"oif": 3}, {"oif": 4}]}
    assert rtnl_path.default_route_oif([_Msg(v6), _Msg(multipath)]) == 3
    assert rtnl_path.default_route_oif([_Msg(v6)]) == 7
    links = [_Msg({"index": 7, "ifname": "ens5", "mtu": 9001})]
    assert rtnl_path.parse_uplink(links, [_Msg(v6)]) == NodeLink(7, "ens5", "device", 9001)


class _Msg(dict[str, Any]):
    """A hand-made message for the shapes no lab recording has (multipath, IPv6-only defaults)."""

    def get_nested(self, *keys: str) -> Any:
        return None


def test_the_onlink_flag_of_a_route_is_kept() -> None:
    from kubectl_podnet.node import rtnl

    onlink = _Msg({"table": 254, "type": 1, "family": 2, "dst_len": 0, "oif": 2, "gateway": "169.254.1.1",
                   "scope": 0, "flags": rtnl.RTNH_F_ONLINK})
    (route,) = rtnl.parse_routes([onlink], {2: "eth0"})
    assert route.onlink and route.gateway == "169.254.1.1" and route.dst == "default"
    assert not any(r.onlink for r in rtnl.parse_routes(dump("ptp.routes"), {}))


def test_the_host_peer_carries_its_mtu() -> None:
    from kubectl_podnet.node import rtnl

    links = {msg.get("ifname"): msg for msg in dump("pathnode.links")}
    veth = links[META["hostVeths"]["bridge"]]
    peer = rtnl.match_peer(_pod_eth0(veth), veth, None, None, [])
    assert peer.mtu == 1500


def _pod_eth0(host_veth: Any) -> Any:
    from kubectl_podnet.model import Interface

    return Interface(ifindex=host_veth.get("link") or 2, name="eth0", kind="veth", mtu=1500, state="up", mac=None,
                     link_ifindex=host_veth["index"])

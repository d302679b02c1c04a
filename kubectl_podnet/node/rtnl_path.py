"""Pure parsers of the node's side of a pod's path: route lookups, the uplink, overlays.

`node/netlink.py` asks the kernel; these functions read the decoded rtnetlink messages
(tested on dumps recorded from real namespaces, tests/samples/netlink). The route to a
pod IP is the kernel's own answer to RTM_GETROUTE (what `ip route get` prints), not our
reading of the table: policy rules, metrics and longest-prefix match are the kernel's.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

from kubectl_podnet.model import NodeLink, OverlayLink, Route, RouteLookup
from kubectl_podnet.node.rtnl import MAIN_TABLE, UNICAST, Message, link_kind, route_metric

ROUTE_TYPES = {1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast", 6: "blackhole",
               7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat"}
# Tunnels a pod's traffic can leave a node by: flannel's and Calico's vxlan, Cilium's vxlan
# or geneve, Calico's IP-in-IP (tunl0, kind ipip), and WireGuard (Calico's wireguard.cali,
# Cilium's cilium_wg0). An ip6tnl carries IPv4 or IPv6 over IPv6.
OVERLAY_KINDS = ("vxlan", "geneve", "ipip", "ip6tnl", "wireguard")
_FALLBACK_KINDS = ("ipip", "ip6tnl")
IFF_UP = 1
_V6_UNDERLAY = {  # attributes whose presence says the tunnel's outer header is IPv6
    "vxlan": ("IFLA_VXLAN_LOCAL6", "IFLA_VXLAN_GROUP6"),
    "geneve": ("IFLA_GENEVE_REMOTE6",),
}


def route_oif(msg: Message) -> int | None:
    """The route's out-interface; for a multipath route, its first nexthop's."""
    oif = msg.get("oif")
    if oif is not None:
        return int(oif)
    hops = msg.get("multipath") or []
    return int(hops[0]["oif"]) if hops else None


def parse_route_lookup(destination: str, answer: Message | None, error: str | None,
                       out_link: NodeLink | None) -> RouteLookup:
    """The kernel's answer to `ip route get destination`, its out-device already looked up."""
    if answer is None:
        return RouteLookup(destination, "unreachable", None, None, None, error=error or "no answer")
    kind = ROUTE_TYPES.get(answer["type"], str(answer["type"]))
    return RouteLookup(
        destination=destination,
        type=kind,
        dev=out_link.name if out_link is not None else None,
        ifindex=route_oif(answer),
        kind=out_link.kind if out_link is not None else None,
        gateway=answer.get("gateway"),
        mtu=route_metric(answer, "RTAX_MTU"),
        source=answer.get("prefsrc"),
        peer_elsewhere=out_link is not None and out_link.kind == "veth" and out_link.link_netnsid is not None,
    )


def longest_match(destination: str, routes: Iterable[Route]) -> Route | None:
    """The main-table route a lookup of `destination` matches: the longest prefix that holds it
    (the kernel's own choice when no policy rule sends the lookup elsewhere). What a failed
    `ip route get` leaves unsaid: a blackhole, unreachable or prohibit route answers only
    EINVAL, EHOSTUNREACH or EACCES."""
    address = ipaddress.ip_address(destination)
    best: tuple[int, Route] | None = None
    for route in routes:
        if route.family != address.version:
            continue
        network = ipaddress.ip_network("0.0.0.0/0" if route.family == 4 else "::/0") if route.dst == "default" \
            else ipaddress.ip_network(route.dst, strict=False)
        if address in network and (best is None or network.prefixlen > best[0]):
            best = (network.prefixlen, route)
    return best[1] if best else None


def _node_link(msg: Message) -> NodeLink:
    return NodeLink(msg["index"], msg.get("ifname"), link_kind(msg), msg.get("mtu"), msg.get("link_netnsid"))


def parse_node_links(links: Iterable[Message]) -> dict[int, NodeLink]:
    """ifindex -> the node's link, to name a route's out-device without asking again."""
    return {msg["index"]: _node_link(msg) for msg in links}


def default_route_oif(routes: Iterable[Message]) -> int | None:
    """The out-interface of the node's default route: IPv4's if there is one, else IPv6's."""
    best: tuple[int, int] | None = None  # (family rank, oif)
    for msg in routes:
        if msg.get("table") != MAIN_TABLE or msg["type"] != UNICAST or msg["dst_len"] != 0:
            continue
        oif = route_oif(msg)
        if oif is None:
            continue
        rank = 0 if msg["family"] == socket.AF_INET else 1
        if best is None or rank < best[0]:
            best = (rank, oif)
    return best[1] if best else None


def parse_uplink(links: Iterable[Message], routes: Iterable[Message]) -> NodeLink | None:
    oif = default_route_oif(routes)
    for msg in links:
        if msg["index"] == oif:
            return _node_link(msg)
    return None


def parse_overlays(links: Iterable[Message], routes: Iterable[Message]) -> list[OverlayLink]:
    """The node's tunnel devices, the bridge each is a port of, the destinations routed into each."""
    links = list(links)
    names = {msg["index"]: msg.get("ifname") for msg in links}
    # the kernel makes a fallback tunl0/ip6tnl0 in every netns once its module is loaded, down:
    # only an IP-in-IP device that is up (Calico's tunl0 is) carries anything
    tunnels = [msg for msg in links if link_kind(msg) in OVERLAY_KINDS
               and (link_kind(msg) not in _FALLBACK_KINDS or msg["flags"] & IFF_UP)]
    if not tunnels:
        return []
    into: dict[int, list[str]] = {}
    for msg in routes:
        oif = route_oif(msg)
        if msg.get("table") == MAIN_TABLE and msg["type"] == UNICAST and oif is not None:
            dst = msg.get("dst")
            into.setdefault(oif, []).append(f"{dst}/{msg['dst_len']}" if dst else "default")
    overlays = []
    for msg in tunnels:
        kind = link_kind(msg)
        v6 = kind == "ip6tnl" or any(msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA", attr)
                                     for attr in _V6_UNDERLAY.get(kind, ()))
        overlays.append(OverlayLink(
            name=msg.get("ifname"),
            kind=kind,
            mtu=msg.get("mtu"),
            underlay_family=6 if v6 else 4,
            master=names.get(msg.get("master")) if msg.get("master") else None,
            routes=[r for r in into.get(msg["index"], []) if not r.startswith("fe80:")],
        ))
    return overlays

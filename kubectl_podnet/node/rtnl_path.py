"""Pure parsers of the node's side of a pod's path: route lookups, the uplink, overlays.

`node/netlink.py` asks the kernel; these functions read the decoded rtnetlink messages
(tested on dumps recorded from real namespaces, tests/samples/netlink). The route to a
pod IP is the kernel's own answer to RTM_GETROUTE (what `ip route get` prints), not our
reading of the table: policy rules, metrics and longest-prefix match are the kernel's.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable

from kubectl_podnet.model import NodeLink, OverlayLink, RouteLookup
from kubectl_podnet.node.rtnl import MAIN_TABLE, UNICAST, Message, link_kind

ROUTE_TYPES = {1: "unicast", 2: "local", 3: "broadcast", 4: "anycast", 5: "multicast", 6: "blackhole",
               7: "unreachable", 8: "prohibit", 9: "throw", 10: "nat"}
OVERLAY_KINDS = ("vxlan", "geneve")
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
    )


def parse_node_links(links: Iterable[Message]) -> dict[int, NodeLink]:
    """ifindex -> the node's link, to name a route's out-device without asking again."""
    return {msg["index"]: NodeLink(msg["index"], msg.get("ifname"), link_kind(msg), msg.get("mtu")) for msg in links}


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
            return NodeLink(ifindex=msg["index"], name=msg.get("ifname"), kind=link_kind(msg), mtu=msg.get("mtu"))
    return None


def parse_overlays(links: Iterable[Message], routes: Iterable[Message]) -> list[OverlayLink]:
    """The node's vxlan/geneve devices, the bridge each is a port of, the destinations routed into each."""
    links = list(links)
    names = {msg["index"]: msg.get("ifname") for msg in links}
    tunnels = [msg for msg in links if link_kind(msg) in OVERLAY_KINDS]
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
        v6 = any(msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA", attr) for attr in _V6_UNDERLAY[kind])
        overlays.append(OverlayLink(
            name=msg.get("ifname"),
            kind=kind,
            mtu=msg.get("mtu"),
            underlay_family=6 if v6 else 4,
            master=names.get(msg.get("master")) if msg.get("master") else None,
            routes=[r for r in into.get(msg["index"], []) if not r.startswith("fe80:")],
        ))
    return overlays

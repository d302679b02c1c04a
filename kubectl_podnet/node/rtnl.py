"""Pure parsers of rtnetlink messages: links, addresses, routes and the veth peer match.

Read, then parse: `node/netlink.py` asks the kernel (and is the only module that imports
pyroute2); these functions only look at the decoded messages it hands over, so they are
tested without root on netlink dumps recorded from real namespaces
(tests/samples/netlink). A message is anything with pyroute2's message interface:
`msg["field"]`, `msg.get("attr")` (short attribute names: "ifname", "link_netnsid") and
`msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")`.

Veth peers are matched by ifindex AND netnsid and confirmed from both ends, because pod
eth0 ifindexes repeat across pods (every pod's eth0 is ifindex 2 or 3).
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any, Protocol

from kubectl_podnet.model import Address, Interface, Peer, Route

SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
MAIN_TABLE = 254
UNICAST = 1  # RTN_UNICAST: local, broadcast and multicast routes are the kernel's own
# The main table's route types worth reporting: unicast, and the ones that refuse a destination
# (a CNI's blackhole for its IPAM block, as Calico writes one per block it owns)
ROUTE_TYPES = {1: "unicast", 6: "blackhole", 7: "unreachable", 8: "prohibit", 9: "throw"}
RTNH_F_ONLINK = 4  # the route's gateway is declared on-link (`ip route ... onlink`)


class Message(Protocol):
    def __getitem__(self, key: str) -> Any: ...

    def get(self, key: str, default: Any = None) -> Any: ...

    def get_nested(self, *keys: str) -> Any: ...


def _scope(number: int) -> str:
    return SCOPES.get(number, str(number))


def _family(number: int) -> int:
    return 4 if number == socket.AF_INET else 6


def link_kind(msg: Message) -> str:
    """The link's kind (veth, bridge, macvlan, ...); "loopback" for lo, "device" for hardware."""
    kind = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
    if kind:
        return str(kind)
    return "loopback" if msg.get("ifname") == "lo" else "device"


def parse_addresses(msgs: Iterable[Message]) -> dict[int, list[Address]]:
    """ifindex -> its addresses, in dump order."""
    addresses: dict[int, list[Address]] = {}
    for msg in msgs:
        addresses.setdefault(msg["index"], []).append(
            Address(
                address=msg.get("address"),
                prefixlen=msg["prefixlen"],
                family=4 if msg["family"] == socket.AF_INET else 6,
                scope=_scope(msg["scope"]),
            )
        )
    return addresses


def parse_interfaces(links: Iterable[Message], addrs: Iterable[Message]) -> list[Interface]:
    """Every link of a netns with its addresses, from one link dump and one address dump."""
    addresses = parse_addresses(addrs)
    return [
        Interface(
            ifindex=msg["index"],
            name=msg.get("ifname"),
            kind=link_kind(msg),
            mtu=msg.get("mtu"),
            state=msg.get("operstate"),
            mac=msg.get("address"),
            addresses=addresses.get(msg["index"], []),
            link_ifindex=msg.get("link"),
            link_netnsid=msg.get("link_netnsid"),
        )
        for msg in links
    ]


def parse_masters(links: Iterable[Message]) -> dict[int, int]:
    """ifindex -> its master's ifindex (the bridge it is a port of), for the node map."""
    return {msg["index"]: msg.get("master") for msg in links if msg.get("master")}


def route_metric(msg: Message, name: str) -> int | None:
    """A route's metric (`RTAX_MTU`, `RTAX_ADVMSS`): what `ip route` prints as `mtu 1450`."""
    value = msg.get_nested("RTA_METRICS", name)
    return int(value) if value else None


def parse_route(msg: Message, names: dict[int, str]) -> Route:
    dst = msg.get("dst")
    family = _family(msg["family"])
    return Route(
        dst=f"{dst}/{msg['dst_len']}" if dst else "default",
        gateway=msg.get("gateway"),
        dev=names.get(msg.get("oif")),
        scope=_scope(msg["scope"]),
        family=4 if family == 4 else 6,
        onlink=bool(msg["flags"] & RTNH_F_ONLINK),
        type=ROUTE_TYPES[msg["type"]],
        mtu=route_metric(msg, "RTAX_MTU"),
        advmss=route_metric(msg, "RTAX_ADVMSS"),
    )


def parse_routes(msgs: Iterable[Message], names: dict[int, str]) -> list[Route]:
    """The main table's unicast, blackhole, unreachable, prohibit and throw routes, with their
    MTU and advmss metrics; devices named through `names` (ifindex -> name)."""
    return [parse_route(msg, names) for msg in msgs
            if msg.get("table") == MAIN_TABLE and msg["type"] in ROUTE_TYPES]


def routes_via(msgs: Iterable[Message], ifindex: int) -> list[str]:
    """Destinations the main table sends out of `ifindex` (a routed pod's /32 and /128), no link-local."""
    return [
        f"{msg.get('dst')}/{msg['dst_len']}"
        for msg in msgs
        if msg.get("oif") == ifindex
        and msg.get("table") == MAIN_TABLE
        and msg["type"] == UNICAST
        and msg.get("dst")
        and not str(msg.get("dst")).startswith("fe80:")
    ]


def peer_in_another_netns(pod_if: Interface, node_nsid_in_pod: int | None) -> Peer | None:
    """A Peer saying why we cannot look, when the pod veth's peer is not in the node's netns."""
    assert pod_if.link_ifindex is not None
    if pod_if.link_netnsid is not None and pod_if.link_netnsid == node_nsid_in_pod:
        return None
    return Peer(
        ifindex=pod_if.link_ifindex,
        name=None,
        kind=None,
        confirmed=False,
        reason="the veth peer lives in another netns than the node's (not the agent's)",
    )


def match_peer(
    pod_if: Interface,
    host_link: Message | None,
    pod_nsid_in_node: int | None,
    master: Message | None,
    routes: list[str],
) -> Peer:
    """The host end of `pod_if` from the node's link at its peer ifindex (None: no such link).

    Confirmed only when that link is a veth pointing back at the pod's ifindex in the pod's
    netns (as the node numbers it): the same ifindex in another pod does not count.
    """
    assert pod_if.link_ifindex is not None
    if host_link is None:
        return Peer(ifindex=pod_if.link_ifindex, name=None, kind=None, confirmed=False, reason="no such ifindex")
    confirmed = (
        link_kind(host_link) == "veth"
        and host_link.get("link") == pod_if.ifindex
        and host_link.get("link_netnsid") == pod_nsid_in_node
    )
    return Peer(
        ifindex=host_link["index"],
        name=host_link.get("ifname"),
        kind=link_kind(host_link),
        confirmed=confirmed,
        master=master.get("ifname") if master is not None else None,
        master_kind=link_kind(master) if master is not None else None,
        routes=routes,
        reason=None if confirmed else "the host link does not point back at the pod's eth0",
        mtu=host_link.get("mtu"),
    )

"""The only module that imports pyroute2: it asks the kernel, `node/rtnl.py` parses.

Every function here is I/O: open a netlink socket in a netns, dump links, addresses and
routes, look up one link or a netnsid. The decisions (what a link is, which routes
count, whether a host veth is the pod's peer) are in the pure parsers, tested on
recorded dumps. A pod netns is entered through an fd the caller already holds (see
`_socket_in`), so no namespace is ever created by accident and one cannot vanish midway.
"""

from __future__ import annotations

import errno
import importlib
import importlib.util
import os
import socket
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubectl_podnet.model import Interface, NodeLink, OverlayLink, Peer, Route, RouteLookup
from kubectl_podnet.node import rtnl, rtnl_path
from kubectl_podnet.node.nsenter import setns


def _load_iproute() -> Any:
    """pyroute2.iproute.linux.IPRoute, without running pyroute2's package __init__.

    That __init__ imports every protocol pyroute2 speaks (conntrack, ndb, ipdb, nl80211,
    wireguard, ...): ~0.3 s, paid by the agent on every exec, for re-exports only. We need
    rtnetlink alone, so we register the bare package and import that one module (~0.06 s).
    Only this module imports pyroute2 (tests/unit/test_boundaries.py), so no one else in
    the process expects the re-exports.
    """
    if "pyroute2" not in sys.modules:
        spec = importlib.util.find_spec("pyroute2")
        if spec is not None and spec.submodule_search_locations is not None:
            package = types.ModuleType("pyroute2")
            package.__path__ = list(spec.submodule_search_locations)
            package.__spec__ = spec
            package.__file__ = spec.origin
            sys.modules["pyroute2"] = package
    return importlib.import_module("pyroute2.iproute.linux").IPRoute


IPRoute = _load_iproute()


def _socket_in(netns_fd: int) -> Any:
    """An IPRoute whose netlink socket lives in the netns open at `netns_fd`.

    A socket stays in the netns it was created in, so we step this thread into the pod
    netns just for the socket() call and straight back. pyroute2's `IPRoute(netns=...)`
    does the same through a forked child (~10 ms a pod) and creates the namespace when
    the path is missing; an fd the caller holds keeps the netns alive and creates nothing.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        setns(netns_fd)
        try:
            return IPRoute()
        finally:
            setns(home)  # if this failed we would be lost in the pod's netns: let it raise
    finally:
        os.close(home)


@contextmanager
def open_netns(netns_fd: int | None) -> Iterator[Any]:
    """An IPRoute in the netns open at `netns_fd` (None: the agent's own, i.e. the node's)."""
    ipr = IPRoute() if netns_fd is None else _socket_in(netns_fd)
    try:
        yield ipr
    finally:
        ipr.close()


class HostNetns:
    """The node's netns (the agent's own) for one agent run, shared by every pod of a batch.

    One socket, and the node's links and routes dumped once: the node view, the node map's
    host view and each pod's host peer all read the same dumps, instead of a socket and a
    link lookup per pod. A snapshot is what one exec reports anyway; a link newer than it
    (a pod started meanwhile) costs one live lookup. The fd on the node netns is held so
    that asking a pod netns for the node's id needs no open per pod.
    """

    def __init__(self) -> None:
        self.fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY)  # the node: where this thread runs
        try:
            self.ipr = IPRoute()
            self.links: dict[int, Any] = {msg["index"]: msg for msg in self.ipr.get_links()}
            self.routes: list[Any] = list(self.ipr.get_routes())
        except BaseException:
            os.close(self.fd)
            raise

    def link(self, index: int) -> Any | None:
        """The node's link at `index`: from the dump, else asked live (None: no such link)."""
        found = self.links.get(index)
        if found is not None:
            return found
        from pyroute2.netlink.exceptions import NetlinkError

        try:
            answer = self.ipr.link("get", index=index)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return None
            raise
        return answer[0] if answer else None

    def close(self) -> None:
        try:
            self.ipr.close()
        finally:
            os.close(self.fd)


@contextmanager
def host_netns() -> Iterator[HostNetns]:
    host = HostNetns()
    try:
        yield host
    finally:
        host.close()


def read_interfaces(ipr: Any) -> list[Interface]:
    return rtnl.parse_interfaces(ipr.get_links(), ipr.get_addr())


def read_routes(ipr: Any, names: dict[int, str]) -> list[Route]:
    return rtnl.parse_routes(ipr.get_routes(), names)


def read_host_routes(host: HostNetns, names: dict[int, str]) -> list[Route]:
    """The node's routes from the run's dump."""
    return rtnl.parse_routes(host.routes, names)


def nsid_of(ipr: Any, netns_fd: int) -> int | None:
    """The id that the netns behind `ipr` gives to the netns open at `netns_fd` (None: none)."""
    answer = ipr.get_netnsid(fd=netns_fd)
    nsid = answer.get("nsid") if answer else None
    return nsid if isinstance(nsid, int) and nsid >= 0 else None


def host_peer(host: HostNetns, pod: Any, pod_if: Interface, pod_netns_fd: int) -> Peer | None:
    """The host end of the pod's veth `pod_if` (`pod`: a socket in the pod netns open at
    `pod_netns_fd`), or None when it has no peer ifindex."""
    if pod_if.link_ifindex is None:
        return None
    elsewhere = rtnl.peer_in_another_netns(pod_if, nsid_of(pod, host.fd))
    if elsewhere is not None:
        return elsewhere
    link = host.link(pod_if.link_ifindex)
    master = None
    routes: list[str] = []
    if link is not None and link.get("master"):
        master = host.link(link.get("master"))
    elif link is not None:
        # routed (ptp/kindnet, calico, cilium): the host routes through this veth, one /32
        # per pod, found in the node's route dump of this run (bridged pods need none)
        routes = rtnl.routes_via(host.routes, link["index"])
    return rtnl.match_peer(pod_if, link, nsid_of(host.ipr, pod_netns_fd), master, routes)


def read_node_path(host: HostNetns) -> tuple[NodeLink | None, list[OverlayLink], dict[int, NodeLink]]:
    """The node's uplink (its default route's device), its vxlan/geneve devices and its links: once a run."""
    links, routes = list(host.links.values()), host.routes
    return (rtnl_path.parse_uplink(links, routes), rtnl_path.parse_overlays(links, routes),
            rtnl_path.parse_node_links(links))


def route_lookup(host: HostNetns, destination: str, known: dict[int, NodeLink]) -> RouteLookup:
    """The kernel's answer to `ip route get destination` (one RTM_GETROUTE) in the node's netns.

    The out-device is named from `known` (the node's links, read once a run); only a link
    newer than that costs one more question.
    """
    from pyroute2.netlink.exceptions import NetlinkError

    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    try:
        answer = host.ipr.route("get", dst=destination, family=family)[0]
    except NetlinkError as exc:  # ENETUNREACH, EHOSTUNREACH, EACCES (prohibit), EINVAL (blackhole)
        return rtnl_path.parse_route_lookup(destination, None, errno.errorcode.get(exc.code, str(exc.code)), None)
    oif = rtnl_path.route_oif(answer)
    out = known.get(oif) if oif is not None else None
    if out is None and oif is not None:
        found = host.link(oif)
        out = rtnl_path.parse_node_links([found]).get(oif) if found is not None else None
    return rtnl_path.parse_route_lookup(destination, answer, None, out)


def decode_dump(data: bytes) -> list[Any]:
    """The rtnetlink messages of a raw dump (what recvmsg gave), without the NLMSG_DONE."""
    from pyroute2.netlink.rtnl.marshal import MarshalRtnl

    return [msg for msg in MarshalRtnl().parse(data) if msg["header"]["type"] > 15]


def read_host_links(host: HostNetns) -> tuple[list[Interface], dict[int, int]]:
    """The node's links and, from the same dump, each bridge port's master (for the node map)."""
    links = list(host.links.values())
    return rtnl.parse_interfaces(links, host.ipr.get_addr()), rtnl.parse_masters(links)

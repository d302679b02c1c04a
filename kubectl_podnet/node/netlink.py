"""The only module that imports pyroute2: it asks the kernel, `node/rtnl.py` parses.

Every function here is I/O: open a netlink socket in a netns, dump links, addresses and
routes, look up one link or a netnsid. The decisions (what a link is, which routes
count, whether a host veth is the pod's peer) are in the pure parsers, tested on
recorded dumps. A pod netns is entered through an fd the caller already holds (see
`_socket_in`), so no namespace is ever created by accident and one cannot vanish midway.

Decision: the socket is a plain AF_NETLINK one (`Rtnl`) and pyroute2 does the netlink:
its message classes (ifinfmsg, ifaddrmsg, rtmsg, nsidmsg) encode the requests IPRoute
sends (the same types, flags and fields, read off strace: dumps, a link or a route `get`,
RTM_GETNSID) and its rtnetlink marshal decodes the answers into the message objects the
parsers always read (and the recorded-dump tests decode). What we skip is IPRoute's
machinery around them: an asyncio loop per call and a few sockets per instance; in a
cProfile of a 30-pod batch, half the batch's time was under asyncio's run_until_complete.

TCP listeners come from a NETLINK_SOCK_DIAG socket (`dump_tcp_listeners`, raw bytes for
`tcp.parse_inet_diag`): no pyroute2 there, the request is one fixed struct.
"""

from __future__ import annotations

import dataclasses
import errno
import importlib
import importlib.util
import os
import socket
import struct
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kubectl_podnet.model import Interface, NodeLink, OverlayLink, Peer, Route, RouteLookup
from kubectl_podnet.node import rtnl, rtnl_path
from kubectl_podnet.node.nsenter import setns


def _load_rtnetlink() -> tuple[Any, Any]:
    """pyroute2's rtnetlink marshal and its NetlinkError, without running pyroute2's package __init__
    (the marshal imports the message classes `_messages` takes).

    That __init__ imports every protocol pyroute2 speaks (conntrack, ndb, ipdb, nl80211,
    wireguard, ...): ~0.3 s, paid by the agent on every exec, for re-exports only. We need
    rtnetlink alone, so we register the bare package and import that one module.
    Only this module imports pyroute2 (tests/unit/test_layers.py), so no one else in
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
    marshal = importlib.import_module("pyroute2.netlink.rtnl.marshal")
    return marshal.MarshalRtnl, importlib.import_module("pyroute2.netlink.exceptions").NetlinkError


MarshalRtnl, NetlinkError = _load_rtnetlink()


def _messages() -> tuple[Any, Any, Any, Any, Any]:
    """The request classes: link, address, route, netns-id and neighbour messages."""
    return (importlib.import_module("pyroute2.netlink.rtnl.ifinfmsg").ifinfmsg,
            importlib.import_module("pyroute2.netlink.rtnl.ifaddrmsg").ifaddrmsg,
            importlib.import_module("pyroute2.netlink.rtnl.rtmsg").rtmsg,
            importlib.import_module("pyroute2.netlink.rtnl.nsidmsg").nsidmsg,
            importlib.import_module("pyroute2.netlink.rtnl.ndmsg").ndmsg)


ifinfmsg, ifaddrmsg, rtmsg, nsidmsg, ndmsg = _messages()

NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 0x1, 0x4, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_GETNEIGH, RTM_GETNSID = 18, 22, 26, 30, 90
RT_TABLE_MAIN = 254
_HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, pid
_RECV_BUFFER = 1 << 20  # more than any one netlink message batch the kernel sends (a dump skb is <= 32 KiB)


class Rtnl:
    """A NETLINK_ROUTE socket in the netns it was created in: requests out, decoded messages back.

    Errors come back as pyroute2's NetlinkError, as IPRoute raised them.
    """

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        try:
            self.sock.bind((0, 0))
        except BaseException:
            self.sock.close()
            raise
        self._seq = 0
        self._marshal = MarshalRtnl()
        self._buffer = bytearray(_RECV_BUFFER)

    def close(self) -> None:
        self.sock.close()

    def ask(self, request: Any, kind: int, flags: int, **fields: Any) -> list[Any]:
        """Send one request (a pyroute2 message of class `request` with `fields`); its answers
        up to the kernel's NLMSG_DONE, ack or single reply."""
        self._seq += 1
        seq = self._seq
        msg = request()
        for name, value in fields.items():
            msg[name] = value
        msg["header"].update({"type": kind, "flags": flags, "sequence_number": seq})
        msg.encode()
        self.sock.send(bytes(msg.data))
        view = memoryview(self._buffer)
        answers: list[Any] = []
        while True:
            size = self.sock.recv_into(self._buffer)
            for msg in self._marshal.parse(bytes(view[:size])):
                header = msg["header"]
                if header["sequence_number"] != seq:
                    continue  # an answer to an earlier request that was cut short by an error
                if header.get("error") is not None:
                    raise header["error"]
                if header["type"] in (NLMSG_DONE, NLMSG_ERROR):  # a dump's end, or the ack
                    return answers
                answers.append(msg)
                if not flags & (NLM_F_ACK | NLM_F_DUMP):
                    return answers  # one reply, no ack asked (RTM_GETNSID)

    def get_links(self) -> list[Any]:
        return self.ask(ifinfmsg, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP)

    def get_addr(self) -> list[Any]:
        return self.ask(ifaddrmsg, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP)

    def get_routes(self) -> list[Any]:
        # family 255, not AF_UNSPEC: what IPRoute asks, every family's routes (the kernel falls back to all)
        return self.ask(rtmsg, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, family=255, table=RT_TABLE_MAIN)

    def get_link(self, index: int) -> list[Any]:
        return self.ask(ifinfmsg, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, index=index)

    def get_route(self, destination: str, source: str | None = None, iif: int | None = None) -> list[Any]:
        """`ip route get destination [from source iif DEV]`: the kernel's lookup, not a reading of
        the table. With `iif` the kernel routes it as a packet arriving on that device (an input
        lookup: forwarding, rp_filter and the rules all apply), as `ip route get ... iif` does."""
        family = socket.AF_INET6 if ":" in destination else socket.AF_INET
        attrs: list[tuple[str, Any]] = [("RTA_DST", destination)]
        if source is not None:
            attrs.append(("RTA_SRC", source))
        if iif is not None:
            attrs.append(("RTA_IIF", iif))
        return self.ask(rtmsg, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_ACK, family=family,
                        dst_len=128 if family == socket.AF_INET6 else 32,
                        src_len=(128 if family == socket.AF_INET6 else 32) if source else 0,
                        table=RT_TABLE_MAIN, attrs=attrs)

    def get_neighbours(self, family: int = socket.AF_INET) -> list[Any]:
        """The neighbour table (`ip neigh`), or with AF_BRIDGE the bridge/vxlan FDB (`bridge fdb`)."""
        return self.ask(ndmsg, RTM_GETNEIGH, NLM_F_REQUEST | NLM_F_DUMP, family=family)

    def get_netnsid(self, fd: int) -> Any | None:
        answers = self.ask(nsidmsg, RTM_GETNSID, NLM_F_REQUEST, attrs=[("NETNSA_FD", fd)])
        return answers[0] if answers else None


NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
TCPF_LISTEN = 1 << 10
IPPROTO_TCP = 6


def dump_tcp_listeners(family: int) -> bytes:
    """sock_diag's raw answer for the TCP sockets in LISTEN of `family` (4 or 6), in the calling
    thread's netns (run it in the pod's), up to its NLMSG_DONE or error. `tcp.parse_inet_diag`
    reads it. The kernel walks only its listening hash for this, not every connection."""
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    # inet_diag_req_v2: family, protocol, ext, pad, states; then an all-zero inet_diag_sockid
    body = struct.pack("=BBBxI", af, IPPROTO_TCP, 0, TCPF_LISTEN) + bytes(48)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG) as sock:
        sock.bind((0, 0))
        sock.send(_HEADER.pack(_HEADER.size + len(body), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        chunks: list[bytes] = []
        while True:
            data = sock.recv(_RECV_BUFFER)
            chunks.append(data)
            offset = 0
            while offset + _HEADER.size <= len(data):
                length, kind = _HEADER.unpack_from(data, offset)[:2]
                if kind in (NLMSG_DONE, NLMSG_ERROR) or length < _HEADER.size:
                    return b"".join(chunks)
                offset += (length + 3) & ~3


def _socket_in(netns_fd: int) -> Rtnl:
    """A netlink socket that lives in the netns open at `netns_fd`.

    A socket stays in the netns it was created in, so we step this thread into the pod
    netns just for the socket() call and straight back. pyroute2's `IPRoute(netns=...)`
    does the same through a forked child (~10 ms a pod) and creates the namespace when
    the path is missing; an fd the caller holds keeps the netns alive and creates nothing.
    """
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        setns(netns_fd)
        try:
            return Rtnl()
        finally:
            setns(home)  # if this failed we would be lost in the pod's netns: let it raise
    finally:
        os.close(home)


@contextmanager
def open_netns(netns_fd: int | None) -> Iterator[Rtnl]:
    """A netlink socket in the netns open at `netns_fd` (None: the agent's own, i.e. the node's)."""
    ipr = Rtnl() if netns_fd is None else _socket_in(netns_fd)
    try:
        yield ipr
    finally:
        ipr.close()


class HostNetns:
    """The node's netns (the agent's own) for one agent run, shared by every pod of a batch.

    One socket, and the node's links and routes dumped at most once (on first use): the node
    view, the node map's host view and each pod's host peer all read the same dumps, instead
    of a socket and a link lookup per pod. A snapshot is what one exec reports anyway; a link
    newer than it (a pod started meanwhile) costs one live lookup, and so does every lookup
    when no one needed the whole dump (one pod inspected on its own). The fd on the node
    netns is held so that asking a pod netns for the node's id needs no open per pod.
    """

    def __init__(self, share: HostNetns | None = None) -> None:
        """`share`: another run's HostNetns whose dumps and netns fd this one reads too, with a
        socket of its own (a batch worker's: a netlink socket answers whoever reads first)."""
        self._owns_fd = share is None
        self.fd: int = os.open("/proc/thread-self/ns/net", os.O_RDONLY) if share is None else share.fd
        try:
            self.ipr = Rtnl()  # in the node's netns: where this thread runs
        except BaseException:
            if self._owns_fd:
                os.close(self.fd)
            raise
        self._links: dict[int, Any] | None = share._links if share is not None else None
        self._routes: list[Any] | None = share._routes if share is not None else None
        self._by_oif: dict[int | None, list[Any]] | None = share._by_oif if share is not None else None
        self._main_routes: list[Route] | None = share._main_routes if share is not None else None

    @property
    def links(self) -> dict[int, Any]:
        """ifindex -> the node's link, in dump order."""
        if self._links is None:
            self._links = {msg["index"]: msg for msg in self.ipr.get_links()}
        return self._links

    @property
    def routes(self) -> list[Any]:
        """Every route of the node, all tables and families, as one dump gives them."""
        if self._routes is None:
            self._routes = list(self.ipr.get_routes())
        return self._routes

    @property
    def main_routes(self) -> list[Route]:
        """The node's main-table routes, parsed from the run's dump (once)."""
        if self._main_routes is None:
            self._main_routes = rtnl.parse_routes(self.routes, {i: m.get("ifname") for i, m in self.links.items()})
        return self._main_routes

    def routes_out_of(self, index: int) -> list[Any]:
        """The routes of the dump whose out-interface is `index`, in dump order: a routed node
        has a /32 per pod, so scanning the whole dump for each pod was quadratic in its pods."""
        if self._by_oif is None:
            by_oif: dict[int | None, list[Any]] = {}
            for msg in self.routes:
                by_oif.setdefault(msg.get("oif"), []).append(msg)
            self._by_oif = by_oif
        return self._by_oif.get(index, [])

    def link(self, index: int) -> Any | None:
        """The node's link at `index`: from the dump if taken, else asked live (None: no such link)."""
        found = self._links.get(index) if self._links is not None else None
        if found is not None:
            return found
        try:
            answer = self.ipr.get_link(index)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return None
            raise
        return answer[0] if answer else None

    def close(self) -> None:
        try:
            self.ipr.close()
        finally:
            if self._owns_fd:
                os.close(self.fd)


@contextmanager
def host_netns(share: HostNetns | None = None) -> Iterator[HostNetns]:
    host = HostNetns(share)
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
    answer = ipr.get_netnsid(netns_fd)
    nsid = answer.get_attr("NETNSA_NSID") if answer is not None else None
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
        routes = rtnl.routes_via(host.routes_out_of(link["index"]), link["index"])
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
    try:
        answer = host.ipr.get_route(destination)[0]
    except NetlinkError as exc:  # ENETUNREACH, EHOSTUNREACH, EACCES (prohibit), EINVAL (blackhole)
        failed = rtnl_path.parse_route_lookup(destination, None, errno.errorcode.get(exc.code, str(exc.code)), None)
        # the error alone does not say which route refused: the longest match of the node's dump does
        return dataclasses.replace(failed, matched=rtnl_path.longest_match(destination, host.main_routes))
    oif = rtnl_path.route_oif(answer)
    out = known.get(oif) if oif is not None else None
    if out is None and oif is not None:
        found = host.link(oif)
        out = rtnl_path.parse_node_links([found]).get(oif) if found is not None else None
    return rtnl_path.parse_route_lookup(destination, answer, None, out)


def lookup_in(ipr: Rtnl, links: dict[int, NodeLink], destination: str, source: str | None = None,
              iif: int | None = None, routes: list[Route] | None = None) -> RouteLookup:
    """`ip route get destination [from source iif DEV]` in the netns of `ipr`, whose links are
    `links`; a refused lookup names the longest-prefix route of `routes` that refused it."""
    try:
        answer = ipr.get_route(destination, source, iif)[0]
    except NetlinkError as exc:  # EXDEV: rp_filter; EHOSTUNREACH: no route or forwarding off; EINVAL: blackhole
        failed = rtnl_path.parse_route_lookup(destination, None, errno.errorcode.get(exc.code, str(exc.code)), None)
        return dataclasses.replace(failed, matched=rtnl_path.longest_match(destination, routes or []))
    oif = rtnl_path.route_oif(answer)
    return rtnl_path.parse_route_lookup(destination, answer, None, links.get(oif) if oif is not None else None)


def read_neighbours(ipr: Rtnl, bridge: bool = False) -> list[Any]:
    """The neighbour table of the netns of `ipr` (or its FDB: vxlan devices keep their remote VTEPs there)."""
    return ipr.get_neighbours(socket.AF_BRIDGE if bridge else socket.AF_INET)


def decode_dump(data: bytes) -> list[Any]:
    """The rtnetlink messages of a raw dump (what recvmsg gave), without the NLMSG_DONE."""
    return [msg for msg in MarshalRtnl().parse(data) if msg["header"]["type"] > 15]


def read_host_links(host: HostNetns) -> tuple[list[Interface], dict[int, int]]:
    """The node's links and, from the same dump, each bridge port's master (for the node map)."""
    links = list(host.links.values())
    return rtnl.parse_interfaces(links, host.ipr.get_addr()), rtnl.parse_masters(links)

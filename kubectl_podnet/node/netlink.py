"""The only module that imports pyroute2: links, addresses, routes and veth peers.

A pod netns is opened with `flags=0` so that a pod that died meanwhile gives an error
instead of pyroute2 silently creating an empty namespace at that path. Veth peers are
matched by ifindex AND netnsid and confirmed from both ends, because pod eth0
ifindexes repeat across pods.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import socket
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


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

from kubectl_podnet.errors import NodeError
from kubectl_podnet.model import Address, Interface, Peer, Route
from kubectl_podnet.node.nsenter import setns

_SCOPES = {0: "global", 200: "site", 253: "link", 254: "host", 255: "nowhere"}
_MAIN_TABLE = 254
_UNICAST = 1


def _socket_in(path: str) -> Any:
    """An IPRoute whose netlink socket lives in the netns at `path`.

    A socket stays in the netns it was created in, so we step this thread into the pod
    netns just for the socket() call and straight back. This is what pyroute2's
    `IPRoute(netns=...)` does too, but through a forked child (~10 ms a pod); opening the
    path ourselves (no O_CREAT) also guarantees no namespace is ever created by accident.
    """
    try:
        target = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise NodeError(f"network namespace {path} is gone (did the pod just exit?)") from exc
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        setns(target)
        try:
            return IPRoute()
        finally:
            setns(home)  # if this failed we would be lost in the pod's netns: let it raise
    finally:
        os.close(target)
        os.close(home)


@contextmanager
def open_netns(path: str | None) -> Iterator[Any]:
    """An IPRoute in the netns at `path` (None: the agent's own, i.e. the node's)."""
    ipr = IPRoute() if path is None else _socket_in(path)
    try:
        yield ipr
    finally:
        ipr.close()


def _family(number: int) -> int:
    return 4 if number == socket.AF_INET else 6


def _kind(msg: Any) -> str:
    kind = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
    if kind:
        return str(kind)
    return "loopback" if msg.get("ifname") == "lo" else "device"


def read_interfaces(ipr: Any) -> list[Interface]:
    addresses: dict[int, list[Address]] = {}
    for msg in ipr.get_addr():
        addresses.setdefault(msg["index"], []).append(
            Address(
                address=msg.get("address"),
                prefixlen=msg["prefixlen"],
                family=4 if msg["family"] == socket.AF_INET else 6,
                scope=_SCOPES.get(msg["scope"], str(msg["scope"])),
            )
        )
    interfaces = []
    for msg in ipr.get_links():
        index = msg["index"]
        interfaces.append(
            Interface(
                ifindex=index,
                name=msg.get("ifname"),
                kind=_kind(msg),
                mtu=msg.get("mtu"),
                state=msg.get("operstate"),
                mac=msg.get("address"),
                addresses=addresses.get(index, []),
                link_ifindex=msg.get("link"),
                link_netnsid=msg.get("link_netnsid"),
            )
        )
    return interfaces


def read_routes(ipr: Any, names: dict[int, str]) -> list[Route]:
    routes = []
    for msg in ipr.get_routes():
        if msg.get("table") != _MAIN_TABLE or msg["type"] != _UNICAST:
            continue
        dst = msg.get("dst")
        family = _family(msg["family"])
        destination = f"{dst}/{msg['dst_len']}" if dst else "default"
        routes.append(
            Route(
                dst=destination,
                gateway=msg.get("gateway"),
                dev=names.get(msg.get("oif")),
                scope=_SCOPES.get(msg["scope"], str(msg["scope"])),
                family=4 if family == 4 else 6,
            )
        )
    return routes


def _nsid_of(ipr: Any, netns_path: str) -> int | None:
    """The id that the netns behind `ipr` gives to the netns at `netns_path`."""
    fd = os.open(netns_path, os.O_RDONLY)
    try:
        answer = ipr.get_netnsid(fd=fd)
    finally:
        os.close(fd)
    nsid = answer.get("nsid") if answer else None
    return nsid if isinstance(nsid, int) and nsid >= 0 else None


def host_peer(host: Any, pod: Any, pod_if: Interface, pod_netns_path: str) -> Peer | None:
    """The host end of the pod's veth `pod_if`, or None when it is not in the host netns."""
    if pod_if.link_ifindex is None:
        return None
    host_as_seen_by_pod = _nsid_of(pod, "/proc/self/ns/net")
    if pod_if.link_netnsid is None or pod_if.link_netnsid != host_as_seen_by_pod:
        return Peer(
            ifindex=pod_if.link_ifindex,
            name=None,
            kind=None,
            confirmed=False,
            reason="the veth peer lives in another netns than the node's (not the agent's)",
        )
    found = host.link("get", index=pod_if.link_ifindex)
    msg = found[0] if found else None
    if msg is None:
        return Peer(ifindex=pod_if.link_ifindex, name=None, kind=None, confirmed=False, reason="no such ifindex")
    pod_as_seen_by_host = _nsid_of(host, pod_netns_path)
    confirmed = (
        _kind(msg) == "veth"
        and msg.get("link") == pod_if.ifindex
        and msg.get("link_netnsid") == pod_as_seen_by_host
    )
    master_name = master_kind = None
    master_index = msg.get("master")
    routes: list[str] = []
    if master_index:
        master = host.link("get", index=master_index)[0]
        master_name, master_kind = master.get("ifname"), _kind(master)
    else:
        # routed (ptp/kindnet, calico, cilium): the host routes through this veth, one /32
        # per pod. Bridged pods need none, and a node's route dump grows with its pods.
        routes = [
            f"{r.get('dst')}/{r['dst_len']}"
            for r in host.get_routes(family=socket.AF_INET, oif=msg["index"])
            + host.get_routes(family=socket.AF_INET6, oif=msg["index"])
            if r.get("table") == _MAIN_TABLE and r.get("dst") and not str(r.get("dst")).startswith("fe80:")
        ]
    return Peer(
        ifindex=msg["index"],
        name=msg.get("ifname"),
        kind=_kind(msg),
        confirmed=confirmed,
        master=master_name,
        master_kind=master_kind,
        routes=routes,
        reason=None if confirmed else "the host link does not point back at the pod's eth0",
    )


def link_masters(ipr: Any) -> dict[int, int]:
    """ifindex -> ifindex of its master (the bridge it is a port of), for the node map."""
    return {msg["index"]: msg.get("master") for msg in ipr.get_links() if msg.get("master")}

"""The node's own view for the node map: its uplink, bridges, veths and routes.

Read from the agent's own netns (hostNetwork: the node's), in one netlink pass, and
shaped by a pure function so the decisions (which link is the uplink, which routes
belong to which link) are tested on plain values. Also the pods of a node when no API
server names them (`node map` run locally): every pod uid found in /proc/*/cgroup.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from kubectl_podnet.model import HostLink, HostView, Interface, Route
from kubectl_podnet.node.cgroup import parse_proc_cgroup
from kubectl_podnet.node.procfs import ProcFS

if TYPE_CHECKING:
    from kubectl_podnet.node.netlink import HostNetns


def host_view(netns_inode: int, interfaces: list[Interface], routes: list[Route], masters: dict[int, int]) -> HostView:
    """Links with their bridge and their routes; the uplink is the first default route's device."""
    names = {i.ifindex: i.name for i in interfaces}
    default = next((r for r in routes if r.dst == "default" and r.dev), None)
    through: dict[str, list[str]] = {}
    for route in routes:
        if route.dst == "default" or route.dev is None or route.dst.startswith("fe80:"):
            continue
        through.setdefault(route.dev, []).append(route.dst)
    links = [
        HostLink(
            ifindex=i.ifindex,
            name=i.name,
            kind=i.kind,
            mtu=i.mtu,
            state=i.state,
            mac=i.mac,
            addresses=i.addresses,
            master=names.get(masters[i.ifindex]) if i.ifindex in masters else None,
            link_ifindex=i.link_ifindex,
            link_netnsid=i.link_netnsid,
            routes=through.get(i.name, []),
        )
        for i in sorted(interfaces, key=lambda item: item.ifindex)
    ]
    return HostView(
        netns_inode=netns_inode,
        uplink=default.dev if default else None,
        gateway=default.gateway if default else None,
        links=links,
    )


def read_host_view(host: HostNetns) -> HostView:
    """The node netns this process runs in (the agent is hostNetwork), from the run's dumps."""
    from kubectl_podnet.node import netlink  # the pyroute2 import only when we read

    interfaces, masters = netlink.read_host_links(host)
    routes = netlink.read_host_routes(host, {i.ifindex: i.name for i in interfaces})
    return host_view(os.stat("/proc/self/ns/net").st_ino, interfaces, routes, masters)


def running_pod_uids(procfs: ProcFS) -> list[str]:
    """Every pod uid with a process on this node, from the kubelet's cgroup paths."""
    uids: set[str] = set()
    for pid in procfs.pids():
        raw = procfs.read_bytes(pid, "cgroup")
        if not raw or b"pod" not in raw:
            continue
        found = parse_proc_cgroup(raw.decode("utf-8", "replace"))
        if found is not None and found.pod_uid and found.container_id:
            uids.add(found.pod_uid)
    return sorted(uids)

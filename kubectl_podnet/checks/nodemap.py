"""The node map: the node's own view and every pod's report, joined into one picture. Pure.

The agent gathers the facts in one exec per node (each pod's report plus the node's
links); the join happens here, on plain values, so the cluster, `node map` run on a
node, and the lab all draw the same map from the same rule: a host link belongs to a
pod when the pod's veth has confirmed it as its peer (ifindex and netnsid, both ways),
or, for a macvlan, when its parent ifindex is in the netns the pod's eth0 is paired to.
"""

from __future__ import annotations

from typing import Any

from kubectl_podnet import __version__
from kubectl_podnet.checks.verdict import primary_interface
from kubectl_podnet.envelope import map_from
from kubectl_podnet.model import (
    API_VERSION,
    NODE_MAP_KIND,
    Generator,
    HostView,
    MapError,
    PodNetNodeMap,
    PodNetReport,
    Wire,
)


def pod_wires(report: PodNetReport, host: HostView) -> list[Wire]:
    """The host links at the far end of this pod's interfaces, as far as they are proven."""
    if report.pod.host_network:
        return []
    links = {link.ifindex: link for link in host.links}
    wires: list[Wire] = []
    node_nsid: int | None = None  # the pod's id for the node netns, proven by a confirmed veth
    for interface in report.interfaces:
        peer = interface.peer
        if interface.kind == "veth" and peer is not None and peer.confirmed and peer.ifindex in links:
            node_nsid = interface.link_netnsid if node_nsid is None else node_nsid
            wires.append(_wire(report, peer.ifindex, links[peer.ifindex].name, interface.name, "veth"))
    for interface in report.interfaces:
        parent = interface.link_ifindex
        if (interface.kind in ("macvlan", "ipvlan") and parent in links and node_nsid is not None
                and interface.link_netnsid == node_nsid):
            wires.append(_wire(report, parent, links[parent].name, interface.name, interface.kind))
    return wires


def _wire(report: PodNetReport, ifindex: int, link: str, interface: str, kind: str) -> Wire:
    pod = report.pod
    return Wire(host_ifindex=ifindex, host_link=link, pod_uid=pod.uid, pod_interface=interface, kind=kind,
                namespace=pod.namespace, name=pod.name)


def _order(report: PodNetReport) -> tuple[str, str, str]:
    return (report.pod.namespace or "", report.pod.name or "", report.pod.uid)


def build_node_map(
    node: str | None, host: HostView, reports: list[PodNetReport], errors: list[MapError] | None = None
) -> PodNetNodeMap:
    ordered = sorted(reports, key=_order)
    return PodNetNodeMap(
        api_version=API_VERSION,
        kind=NODE_MAP_KIND,
        generator=Generator(tool="kubectl-podnet", version=__version__),
        node=node,
        host=host,
        wires=[wire for report in ordered for wire in pod_wires(report, host)],
        pods=ordered,
        errors=sorted(errors or [], key=lambda e: (e.namespace or "", e.name or "")),
    )


def failed_checks(report: PodNetReport) -> list[str]:
    return [check.id for check in report.checks if check.status == "fail"]


def pod_label(report: PodNetReport) -> str:
    pod = report.pod
    return f"{pod.namespace}/{pod.name}" if pod.name else f"uid {pod.uid}"


def primary_of(report: PodNetReport) -> str | None:
    """The pod's own interface name (eth0), the one its details are drawn under."""
    interface = primary_interface(report.interfaces)
    return interface.name if interface is not None else None


def node_map_from(
    envelope: dict[str, Any], where: str, node: str | None, asked: list[tuple[str | None, str | None]],
    errors: list[MapError] | None = None,
) -> PodNetNodeMap:
    """The agent's answer to a NodeMapRequest (`asked`: each pod's namespace and name, in order), mapped."""
    host, reports, missed = map_from(envelope, where, node, asked)
    return build_node_map(node, host, reports, [*(errors or []), *missed])

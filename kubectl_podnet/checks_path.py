"""The wire around the pod, both directions: `routes` and `mtu`. Pure: facts in, verdicts out.

`routes` judges what the pod's traffic leaves by (its default route per pod-IP family, out
of eth0 through an on-link gateway) and what the node's traffic to the pod leaves by (the
kernel's own answer to `ip route get POD_IP`, which must name the pod's host veth or the
bridge holding it). `mtu` judges the sizes along that wire: a veth pair must agree, and
eth0 must fit the node's uplink minus the outer headers of an overlay the pod's traffic
enters.
"""

from __future__ import annotations

import ipaddress

from kubectl_podnet.model import Interface, NodeFacts, OverlayLink, Route, RouteLookup, Status
from kubectl_podnet.verdict import Verdict, family_of, primary_interface, worst

# Outer headers a tunnel adds: Ethernet 14 + UDP 8 + VXLAN/Geneve 8, plus IPv4 20 or IPv6 40.
# (Geneve options come on top; we count the base header, as flannel and Calico do for vxlan.)
OVERLAY_OVERHEAD = {4: 50, 6: 70}

_FIX_POD_ROUTE = (
    "the CNI writes the pod's default route at pod creation: recreate the pod; if it comes back "
    "broken, look for a process with NET_ADMIN in the pod that changes routes"
)
_FIX_NODE_ROUTE = (
    "the node's route to the pod IP names the wrong device (left over from an earlier pod with "
    "this IP?): delete it (ip route del POD_IP/32) and recreate the pod so the CNI writes it again"
)


def route_text(route: Route) -> str:
    parts = [route.dst]
    if route.gateway:
        parts.append(f"via {route.gateway}")
    if route.dev:
        parts.append(f"dev {route.dev}")
    if route.scope not in ("global", "universe"):
        parts.append(f"scope {route.scope}")
    if route.onlink:
        parts.append("onlink")
    return " ".join(parts)


def lookup_text(lookup: RouteLookup) -> str:
    if lookup.error:
        return f"{lookup.destination}: {lookup.error}"
    parts = [lookup.destination if lookup.type == "unicast" else f"{lookup.type} {lookup.destination}"]
    if lookup.gateway:
        parts.append(f"via {lookup.gateway}")
    if lookup.dev:
        parts.append(f"dev {lookup.dev}")
    return " ".join(parts)


def _on_link(gateway: str, eth0: Interface, route: Route, routes: list[Route]) -> bool:
    """Is the gateway reachable without a router: a connected subnet, link-local, or onlink."""
    if route.onlink:
        return True
    address = ipaddress.ip_address(gateway)
    if address.version == 6 and address.is_link_local:
        return True  # fe80::/64 is on every IPv6 link
    for connected in routes:
        if connected.dev == eth0.name and connected.gateway is None and connected.dst != "default":
            if address in ipaddress.ip_network(connected.dst, strict=False):
                return True
    return any(
        a.family == address.version and address in ipaddress.ip_interface(f"{a.address}/{a.prefixlen}").network
        for a in eth0.addresses
    )


def _pod_families(facts: NodeFacts, eth0: Interface) -> list[int]:
    if facts.pod.pod_ips:
        return sorted({family_of(ip) for ip in facts.pod.pod_ips})
    return sorted({a.family for a in eth0.addresses if a.scope == "global"})


def _pod_side(facts: NodeFacts, eth0: Interface) -> list[tuple[Status, str]]:
    findings: list[tuple[Status, str]] = []
    for family in _pod_families(facts, eth0):
        name = f"IPv{family}"
        defaults = [r for r in facts.routes if r.dst == "default" and r.family == family]
        if not defaults:
            findings.append(("fail", f"no {name} default route in the pod netns"))
            continue
        route = next((r for r in defaults if r.dev == eth0.name), None)
        if route is None:
            findings.append(("fail", f"the {name} default route leaves by {defaults[0].dev}, not {eth0.name}: "
                             f"{route_text(defaults[0])}"))
        elif route.gateway is None:
            findings.append(("pass", f"pod: {route_text(route)} (a device route)"))
        elif _on_link(route.gateway, eth0, route, facts.routes):
            findings.append(("pass", f"pod: {route_text(route)}"))
        else:
            findings.append(("fail", f"the {name} default gateway {route.gateway} is not on-link: no connected "
                             f"route on {eth0.name} covers it and the route is not onlink"))
    return findings


def _node_side(facts: NodeFacts, eth0: Interface) -> list[tuple[Status, str]]:
    peer = eth0.peer
    if peer is None or peer.name is None:
        return [("warn", "node side not judged: the host peer of eth0 is unknown (see single-veth)")]
    expected = [name for name in (peer.name, peer.master) if name]
    findings: list[tuple[Status, str]] = []
    uplink = facts.uplink.name if facts.uplink else None
    for lookup in facts.node_routes:
        text = lookup_text(lookup)
        if lookup.error or lookup.type not in ("unicast", "local"):
            findings.append(("fail", f"the node has no route to the pod: {text}"))
        elif lookup.dev in expected:
            findings.append(("pass", f"node: {text}"))
        elif lookup.type == "local":
            findings.append(("fail", f"the node owns {lookup.destination} itself ({text}): the pod IP is also a "
                             "node address"))
        elif lookup.dev is not None and lookup.dev == uplink:  # before the veth test: an uplink can be a veth
            findings.append(("fail", f"the node sends the pod's traffic out of its uplink: {text} (no route to "
                             f"the pod via {' or '.join(expected)})"))
        elif lookup.kind == "veth":
            findings.append(("fail", f"stale node route: {text}, another veth than the pod's {peer.name}"))
        else:
            findings.append(("warn", f"node: {text}, neither the pod's veth {peer.name} nor its bridge (an eBPF "
                             "datapath such as Cilium's delivers this way; otherwise a misroute)"))
    if not facts.node_routes and facts.pod.pod_ips:
        findings.append(("warn", "node side not judged: the agent looked up no route to the pod IPs"))
    return findings


def check_routes(facts: NodeFacts) -> Verdict:
    if facts.pod.host_network:
        return Verdict("skip", "hostNetwork pod: it uses the node's own routes")
    eth0 = primary_interface(facts.interfaces)
    if eth0 is None:
        return Verdict("fail", "the pod netns has no eth0 to route through",
                       {"podRoutes": [route_text(r) for r in facts.routes]})
    evidence = {
        "podRoutes": [route_text(r) for r in facts.routes],
        "nodeRoutes": [lookup_text(lookup) for lookup in facts.node_routes],
        "expectedNodeDevices": [n for n in ((eth0.peer.name, eth0.peer.master) if eth0.peer else ()) if n],
    }
    pod_side = _pod_side(facts, eth0)
    if not pod_side:
        return Verdict("skip", "no pod IP and no global address on eth0: nothing to route", evidence)
    findings = pod_side + _node_side(facts, eth0)
    status = worst([s for s, _ in findings])
    if status == "pass":
        return Verdict("pass", "; ".join(text for _, text in findings), evidence)
    bad = [text for s, text in findings if s == status]
    fixes = []
    if any(s != "pass" for s, _ in pod_side):
        fixes.append(_FIX_POD_ROUTE)
    if any(s == "fail" for s, _ in findings[len(pod_side):]):
        fixes.append(_FIX_NODE_ROUTE)
    return Verdict(status, "; ".join(bad), evidence, fix="; ".join(fixes) or None)


def overlays_on_path(facts: NodeFacts, eth0: Interface) -> list[OverlayLink]:
    """The tunnels the pod's traffic enters: a port of its bridge, or a device the node routes into."""
    bridge = eth0.peer.master if eth0.peer else None
    return [o for o in facts.overlays if o.routes or (bridge is not None and o.master == bridge)]


def check_mtu(facts: NodeFacts) -> Verdict:
    if facts.pod.host_network:
        return Verdict("skip", "hostNetwork pod: it uses the node's own links")
    eth0 = primary_interface(facts.interfaces)
    if eth0 is None:
        return Verdict("skip", "the pod netns has no eth0 (see single-veth)")
    peer = eth0.peer
    overlays = overlays_on_path(facts, eth0)
    uplink = facts.uplink
    evidence = {
        "eth0": {eth0.name: eth0.mtu},
        "hostPeer": {peer.name: peer.mtu} if peer and peer.name else {},
        "uplink": {uplink.name: uplink.mtu} if uplink else {},
        "overlays": [{"name": o.name, "kind": o.kind, "mtu": o.mtu,
                      "overhead": OVERLAY_OVERHEAD[o.underlay_family]} for o in overlays],
    }
    if peer is not None and peer.name is not None and peer.mtu is not None and peer.mtu != eth0.mtu:
        return Verdict(
            "fail", f"{eth0.name} mtu {eth0.mtu} but its host peer {peer.name} mtu {peer.mtu}: packets larger "
            "than the smaller one are dropped on the pair", evidence,
            fix=f"set both ends to one MTU (ip link set {peer.name} mtu {eth0.mtu}, or the CNI's mtu setting) and "
            "recreate the pod",
        )
    pair = (f"{eth0.name} mtu {eth0.mtu} = {peer.name} (host)" if peer and peer.name and peer.mtu is not None
            else f"{eth0.name} mtu {eth0.mtu} (host peer unknown)")
    if uplink is None:
        return Verdict("pass", f"{pair}; the node has no default route: no uplink to compare with", evidence)
    limit, why = uplink.mtu, f"node uplink {uplink.name} mtu {uplink.mtu}"
    for overlay in overlays:
        overhead = OVERLAY_OVERHEAD[overlay.underlay_family]
        if uplink.mtu - overhead < limit:
            limit = uplink.mtu - overhead
            why = f"node uplink {uplink.name} mtu {uplink.mtu} - {overlay.kind} {overlay.name} overhead {overhead} = {limit}"
        if overlay.mtu < limit:
            limit, why = overlay.mtu, f"{overlay.kind} {overlay.name} mtu {overlay.mtu}"
    evidence["limit"] = limit
    if eth0.mtu > limit:
        return Verdict(
            "warn", f"{eth0.name} mtu {eth0.mtu} > {why}: packets larger than {limit} leaving the node "
            "are dropped (or need fragmentation)", evidence,
            fix=f"set the CNI's MTU to {limit} or less (or raise the uplink's) and recreate the pods",
        )
    return Verdict("pass", f"{pair}; fits {why}", evidence)


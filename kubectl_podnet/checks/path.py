"""The wire around the pod, both directions: `routes` and `mtu`. Pure: facts in, verdicts out.

`routes` judges what the pod's traffic leaves by (its default route per pod-IP family, out
of eth0 through an on-link gateway) and what the node's traffic to the pod leaves by (the
kernel's own answer to `ip route get POD_IP`, which must name the pod's host veth, the
bridge holding it, or a device its CNI delivers through: Cilium's cilium_host). A failed
lookup is explained by the route it matched (a blackhole is Calico's IPAM block), and each
fix is the CNI's own (`kubectl_podnet.cni`). `mtu` judges the sizes along that wire: a veth
pair must agree, and what the pod sends (eth0's MTU, or its default route's MTU when lower)
must fit the node's uplink minus the outer headers of each tunnel the pod's traffic enters,
a routed one or one the CNI's eBPF redirects into.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from kubectl_podnet.checks.verdict import Check, Verdict, enter_netns, family_of as ip_family, primary_interface, worst
from kubectl_podnet.cni import UNKNOWN, Family, family_of
from kubectl_podnet.model import Interface, NodeFacts, OverlayLink, Route, RouteLookup, Status

# Outer headers a tunnel adds, by kind and underlay family: vxlan and geneve are Ethernet 14 +
# UDP 8 + their own 8, plus IPv4 20 or IPv6 40 (Geneve options come on top; we count the base
# header, as flannel, Calico and Cilium's pkg/mtu do); IP-in-IP is one IPv4 header (20), ip6tnl
# one IPv6 header (40); WireGuard is 60 over IPv4 and 80 over IPv6 (Calico's and Cilium's figure).
_OVERHEAD = {("vxlan", 4): 50, ("vxlan", 6): 70, ("geneve", 4): 50, ("geneve", 6): 70, ("ipip", 4): 20,
             ("ipip", 6): 20, ("ip6tnl", 4): 40, ("ip6tnl", 6): 40, ("wireguard", 4): 60, ("wireguard", 6): 80}

_FIX_POD_ROUTE = (
    "the CNI writes the pod's default route at pod creation: recreate the pod; if it comes back "
    "broken, look for a process with NET_ADMIN in the pod that changes routes"
)


def overlay_overhead(overlay: OverlayLink) -> int:
    return _OVERHEAD.get((overlay.kind, overlay.underlay_family), 50)


def route_text(route: Route) -> str:
    parts = [route.dst if route.type == "unicast" else f"{route.type} {route.dst}"]
    if route.gateway:
        parts.append(f"via {route.gateway}")
    if route.dev:
        parts.append(f"dev {route.dev}")
    if route.scope not in ("global", "universe") and route.type == "unicast":
        parts.append(f"scope {route.scope}")
    if route.onlink:
        parts.append("onlink")
    if route.mtu:
        parts.append(f"mtu {route.mtu}")
    if route.advmss:
        parts.append(f"advmss {route.advmss}")
    return " ".join(parts)


def lookup_text(lookup: RouteLookup) -> str:
    if lookup.error:
        matched = f" (matches {route_text(lookup.matched)})" if lookup.matched else ""
        return f"{lookup.destination}: {lookup.error}{matched}"
    parts = [lookup.destination if lookup.type == "unicast" else f"{lookup.type} {lookup.destination}"]
    if lookup.gateway:
        parts.append(f"via {lookup.gateway}")
    if lookup.dev:
        parts.append(f"dev {lookup.dev}")
    if lookup.mtu:
        parts.append(f"mtu {lookup.mtu}")
    return " ".join(parts)


def _on_link(gateway: str, eth0: Interface, route: Route, routes: list[Route]) -> bool:
    """Is the gateway reachable without a router: a connected subnet, link-local, or onlink."""
    if route.onlink:
        return True
    address = ipaddress.ip_address(gateway)
    if address.version == 6 and address.is_link_local:
        return True  # fe80::/64 is on every IPv6 link
    for connected in routes:
        if (connected.dev == eth0.name and connected.gateway is None and connected.dst != "default"
                and connected.type == "unicast"):
            if address in ipaddress.ip_network(connected.dst, strict=False):
                return True
    return any(
        a.family == address.version and address in ipaddress.ip_interface(f"{a.address}/{a.prefixlen}").network
        for a in eth0.addresses
    )


def _pod_families(facts: NodeFacts, eth0: Interface) -> list[int]:
    if facts.pod.pod_ips:
        return sorted({ip_family(ip) for ip in facts.pod.pod_ips})
    return sorted({a.family for a in eth0.addresses if a.scope == "global"})


def _pod_side(facts: NodeFacts, eth0: Interface) -> list[tuple[Status, str]]:
    findings: list[tuple[Status, str]] = []
    for family in _pod_families(facts, eth0):
        name = f"IPv{family}"
        defaults = [r for r in facts.routes if r.dst == "default" and r.family == family and r.type == "unicast"]
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


@dataclass(frozen=True)
class NodeFinding:
    status: Status
    text: str
    fix: str | None = None


def _with_node(fix: str, facts: NodeFacts) -> str:
    return fix.replace("NODE", facts.pod.node or "NODE")


def _no_route(lookup: RouteLookup, family: Family, peer: str) -> str:
    """Why the node's lookup failed, from the route it matched: a blackhole is a CNI's own."""
    matched = lookup.matched
    if matched is None or matched.type == "unicast":
        return f"the node has no route to the pod: {lookup_text(lookup)}"
    refused = f"the lookup for {lookup.destination} falls to `{route_text(matched)}` ({lookup.error})"
    if family.name == "calico" and matched.type == "blackhole":
        return (f"the node's route to the pod is missing: {refused}, the blackhole Calico keeps for the IPAM "
                f"block this node owns; each pod's own /32 through its cali veth overrides it, and {peer}'s is gone")
    return f"the node has no route to the pod: {refused}: the node drops traffic to the pod"


def _judge_lookup(lookup: RouteLookup, facts: NodeFacts, peer: str, expected: list[str],
                  family: Family) -> NodeFinding:
    uplink = facts.uplink.name if facts.uplink else None
    restore = _with_node(family.restore_route, facts)
    text = lookup_text(lookup)
    if lookup.error or lookup.type not in ("unicast", "local"):
        return NodeFinding("fail", _no_route(lookup, family, peer), restore)
    if lookup.dev in expected:
        return NodeFinding("pass", f"node: {text}")
    if lookup.type == "local":
        return NodeFinding("fail", f"the node owns {lookup.destination} itself ({text}): the pod IP is also a "
                            "node address", "remove the address from the node, or give the CNI a pod range apart "
                            "from the node's subnets, and recreate the pod")
    if lookup.dev is not None and lookup.dev == uplink:  # before the veth test: an uplink can be a veth
        return NodeFinding("fail", f"the node sends the pod's traffic out of its uplink: {text} (no route to "
                            f"the pod via {' or '.join(expected)})", restore)
    if lookup.dev in family.delivery:
        return NodeFinding("pass", f"node: {text} ({family.title} reaches its local pods through {lookup.dev} and "
                            f"its eBPF program on {peer} delivers the last hop: no route per pod is expected; with "
                            "eBPF host routing the packet skips this route, and the endpoint map "
                            "(cilium-dbg bpf endpoint list) is the side this tool cannot read)")
    if lookup.kind == "veth" and lookup.peer_elsewhere:
        return NodeFinding("fail", f"stale node route: {text}, another pod's veth than this pod's {peer}",
                            f"the route is left over from an earlier pod with this IP: delete it (ip route del "
                            f"{lookup.destination} dev {lookup.dev}); then {restore}")
    if family is UNKNOWN:
        return NodeFinding("warn", f"node: {text}, neither the pod's veth {peer} nor its bridge (an eBPF "
                            "datapath may deliver this way; otherwise a misroute)")
    return NodeFinding("warn", f"node: {text}, neither the pod's veth {peer} nor its bridge, and not how "
                        f"{family.title} delivers to its pods: a misroute, or a wiring this tool does not know",
                        restore)


def _node_side(facts: NodeFacts, eth0: Interface) -> list[NodeFinding]:
    peer = eth0.peer
    if peer is None or peer.name is None:
        return [NodeFinding("warn", "node side not judged: the host peer of eth0 is unknown (see single-veth)")]
    expected = [name for name in (peer.name, peer.master) if name]
    family = family_of(facts.cni)
    findings = [_judge_lookup(lookup, facts, peer.name, expected, family) for lookup in facts.node_routes]
    if not facts.node_routes and facts.pod.pod_ips:
        findings.append(NodeFinding("warn", "node side not judged: the agent looked up no route to the pod IPs"))
    return findings


def node_route_break(facts: NodeFacts) -> NodeFinding | None:
    """The node side's first failure, for the checks whose symptom it explains (`pod-ip`)."""
    eth0 = primary_interface(facts.interfaces)
    if facts.pod.host_network or eth0 is None:
        return None
    return next((f for f in _node_side(facts, eth0) if f.status == "fail"), None)


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
        "expectedNodeDevices": [n for n in ((eth0.peer.name, eth0.peer.master) if eth0.peer else ()) if n]
        + list(family_of(facts.cni).delivery),
        "cni": family_of(facts.cni).name,
    }
    pod_side = _pod_side(facts, eth0)
    if not pod_side:
        return Verdict("skip", "no pod IP and no global address on eth0: nothing to route", evidence)
    node_side = _node_side(facts, eth0)
    statuses = [s for s, _ in pod_side] + [f.status for f in node_side]
    status = worst(statuses)
    texts = [text for _, text in pod_side] + [f.text for f in node_side]
    if status == "pass":
        return Verdict("pass", "; ".join(texts), evidence)
    bad = [text for s, text in zip(statuses, texts) if s == status]
    fixes = []
    if any(s != "pass" for s, _ in pod_side):
        fixes.append(_FIX_POD_ROUTE)
    fixes += [f.fix for f in node_side if f.status == status and f.fix]
    return Verdict(status, "; ".join(bad), evidence, fix="; ".join(dict.fromkeys(fixes)) or None)


def overlays_on_path(facts: NodeFacts, eth0: Interface) -> list[OverlayLink]:
    """The tunnels the pod's traffic enters: a port of its bridge, a device the node routes into,
    or the one its CNI's eBPF redirects into with no route to read (Cilium's cilium_vxlan)."""
    bridge = eth0.peer.master if eth0.peer else None
    redirected = set(facts.cni.tunnels) if facts.cni else set()
    return [o for o in facts.overlays
            if o.routes or (bridge is not None and o.master == bridge) or o.name in redirected]


def _route_mtus(facts: NodeFacts, eth0: Interface) -> list[Route]:
    """The pod's routes out of eth0 that carry their own MTU (Cilium's `default via ROUTER mtu 1450`)."""
    return [r for r in facts.routes if r.dev == eth0.name and r.mtu and r.type == "unicast"]


def check_mtu(facts: NodeFacts) -> Verdict:
    if facts.pod.host_network:
        return Verdict("skip", "hostNetwork pod: it uses the node's own links")
    eth0 = primary_interface(facts.interfaces)
    if eth0 is None:
        return Verdict("skip", "the pod netns has no eth0 (see single-veth)")
    peer = eth0.peer
    overlays = overlays_on_path(facts, eth0)
    uplink = facts.uplink
    capped = _route_mtus(facts, eth0)
    defaults = [r for r in capped if r.dst == "default"]
    # what the pod sends to other nodes: eth0's MTU, or its default route's when that is lower
    path_mtu = min([eth0.mtu] + [r.mtu for r in defaults if r.mtu])
    evidence = {
        "eth0": {eth0.name: eth0.mtu},
        "hostPeer": {peer.name: peer.mtu} if peer and peer.name else {},
        "uplink": {uplink.name: uplink.mtu} if uplink else {},
        "overlays": [{"name": o.name, "kind": o.kind, "mtu": o.mtu, "overhead": overlay_overhead(o)} for o in overlays],
    }
    if capped:
        evidence["routeMtus"] = {route_text(r): r.mtu for r in capped}
        evidence["pathMtu"] = path_mtu
    if peer is not None and peer.name is not None and peer.mtu is not None and peer.mtu != eth0.mtu:
        return Verdict(
            "fail", f"{eth0.name} mtu {eth0.mtu} but its host peer {peer.name} mtu {peer.mtu}: packets larger "
            "than the smaller one are dropped on the pair", evidence,
            fix=f"set both ends to one MTU (ip link set {peer.name} mtu {eth0.mtu}, or the CNI's mtu setting) and "
            "recreate the pod",
        )
    pair = (f"{eth0.name} mtu {eth0.mtu} = {peer.name} (host)" if peer and peer.name and peer.mtu is not None
            else f"{eth0.name} mtu {eth0.mtu} (host peer unknown)")
    sends = f"{eth0.name} mtu {eth0.mtu}"
    if path_mtu < eth0.mtu:
        pair += f", default route mtu {path_mtu}"
        sends = f"the pod's default route mtu {path_mtu}"
    elif defaults:
        pair += f", default route mtu {defaults[0].mtu}"
        sends = f"the pod's default route mtu {defaults[0].mtu}"
    if uplink is None:
        return Verdict("pass", f"{pair}; the node has no default route: no uplink to compare with", evidence)
    limit, why, tunnel = uplink.mtu, f"node uplink {uplink.name} mtu {uplink.mtu}", None
    for overlay in overlays:
        overhead = overlay_overhead(overlay)
        if uplink.mtu - overhead < limit:
            limit, tunnel = uplink.mtu - overhead, overlay
            why = f"node uplink {uplink.name} mtu {uplink.mtu} - {overlay.kind} {overlay.name} overhead {overhead} = {limit}"
        if overlay.mtu < limit:
            limit, why, tunnel = overlay.mtu, f"{overlay.kind} {overlay.name} mtu {overlay.mtu}", overlay
    evidence["limit"] = limit
    family = family_of(facts.cni)
    if family.tunnels and family.delivery and not defaults:  # Cilium caps the pod's path on its route, not eth0
        sends += f" (its default route carries no mtu of its own, where {family.title} puts the tunnel's)"
    if path_mtu > limit:
        fix = family.set_mtu.replace("LIMIT", str(limit))
        if tunnel is not None:
            # a tunnel drops what it cannot carry (a bridge port or an eBPF redirect sends no ICMP back)
            return Verdict(
                "fail", f"{sends} > {why}: packets to pods on other nodes larger than {limit} are dropped in "
                f"the tunnel (small requests work, large responses hang)", evidence, fix=fix)
        return Verdict(
            "warn", f"{sends} > {why}: packets larger than {limit} leaving the node are dropped (or need "
            "fragmentation)", evidence, fix=fix.replace(" and recreate", " (or raise the uplink's) and recreate", 1))
    return Verdict("pass", f"{pair}; fits {why}", evidence)


def _routes_by_hand(facts: NodeFacts) -> list[str]:
    if facts.pod.host_network:
        return []
    eth0 = primary_interface(facts.interfaces)
    peer = eth0.peer if eth0 else None
    where = " or ".join(n for n in (peer.name, peer.master) if n) if peer else "the pod's veth or its bridge"
    return [f"{enter_netns(facts)} ip route"] + [
        f"ip route get {ip}   # the node's route to the pod: must leave by {where}" for ip in facts.pod.pod_ips]


def _mtu_by_hand(facts: NodeFacts) -> list[str]:
    if facts.pod.host_network:
        return []
    return [f"{enter_netns(facts)} ip -d link show eth0   # its mtu must equal the host peer's",
            "ip route show default   # the node's uplink; ip -d link show DEV gives its mtu (and any vxlan/geneve)"]


CHECKS = (
    Check("routes", "the pod's default route leaves eth0 via an on-link gateway; the node's route to each pod IP "
          "leaves by the pod's own veth or its bridge", check_routes, _routes_by_hand),
    Check("mtu", "the veth pair agrees on its MTU, and eth0 fits the node uplink minus any overlay overhead",
          check_mtu, _mtu_by_hand),
)

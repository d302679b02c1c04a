"""`connect A B`: both nodes' facts in, the path's hops out. Pure.

Each hop is judged from the kernel's answers on the node it happened on (connect_model's
ConnectSide), and a failure is placed where the evidence puts it: the rule whose counter
moved during the dial, the lookup that refused, the capture that saw the packet arrive on
B's node uplink and never on B's veth. The hop ids are stable (CI keys on them):

| id | what it proves |
|---|---|
| `a-egress` | A's own route to B leaves eth0 from A's pod IP, its next hop answers |
| `a-forward` | A's node routes a packet from A (as it arrives) toward B: forwarding on, rp_filter content, no DROP on the way |
| `overlay` | the tunnel (or route) between the nodes sends it to B's node, and it arrives there |
| `b-deliver` | B's node routes it, as it arrives from the tunnel, to B's veth or bridge |
| `connection` | a real TCP connection from inside A to a one-off listener inside B, with no SNAT and no DNAT |
| `mtu` | a packet of A's path MTU with DF set arrives; else the size that does |
| `port` | with `B:PORT`: B's own listener there answers |
| `policy` | the NetworkPolicies that select A (egress) or B (ingress), as evidence |
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from kubectl_podnet import __version__
from kubectl_podnet.checks.path import lookup_text
from kubectl_podnet.checks.verdict import primary_interface, worst
from kubectl_podnet.cni import family_of
from kubectl_podnet.connect_model import CONNECT_KIND, ConnectSide, Dial, Hop, NodeRef, PodNetConnect, PolicyRef
from kubectl_podnet.model import API_VERSION, Generator, Status
from kubectl_podnet.serde import to_json

HOP_IDS = ("a-egress", "a-forward", "overlay", "b-deliver", "connection", "mtu", "port", "policy")


def _name(side: ConnectSide) -> str:
    pod = side.report.pod
    return pod.name or pod.uid


def _ip(side: ConnectSide, family: int) -> str | None:
    return next((ip for ip in side.report.pod.pod_ips if (":" in ip) == (family == 6)), None)


def _node(side: ConnectSide) -> str | None:
    return side.report.pod.node


def egress_hop(a: ConnectSide, b_ip: str) -> Hop:
    node = _node(a)
    if a.report.pod.host_network:
        return Hop("a-egress", node, "skip", f"{_name(a)} is a hostNetwork pod: it sends with the node's own routes")
    lookup = a.egress
    eth0 = primary_interface(a.report.interfaces)
    a_ip = _ip(a, 6 if ":" in b_ip else 4)
    if lookup is None or eth0 is None:
        return Hop("a-egress", node, "fail", f"{_name(a)} has no eth0 to send from (see inspect)")
    evidence: dict[str, object] = {"lookup": lookup_text(lookup), "source": lookup.source,
                                   "gatewayNeighbour": a.gateway_neighbour}
    text = f"{_name(a)}: {lookup_text(lookup)}"
    if lookup.error or lookup.type != "unicast":
        return Hop("a-egress", node, "fail", f"{_name(a)} has no route to {b_ip}: {lookup_text(lookup)}", evidence,
                   "the CNI writes the pod's routes at pod creation: recreate the pod")
    if lookup.dev != eth0.name:
        return Hop("a-egress", node, "fail", f"{text}: leaves by {lookup.dev}, not {eth0.name}", evidence,
                   "a route of another interface (a Multus network?) takes the pod IP range: fix that network's "
                   "routes")
    if lookup.source and a_ip and lookup.source != a_ip:
        return Hop("a-egress", node, "fail", f"{text}: from {lookup.source}, not A's pod IP {a_ip}", evidence)
    if a.gateway_neighbour in ("FAILED", "INCOMPLETE"):
        hop = lookup.gateway or b_ip
        return Hop("a-egress", node, "fail", f"{text}: its next hop {hop} does not answer ARP "
                   f"({a.gateway_neighbour})", evidence, "the host end of the veth answers for the gateway (an "
                   "address on the bridge, proxy ARP, or a fixed neighbour entry): check it on the node")
    neighbour = f", next hop {lookup.gateway or b_ip} {a.gateway_neighbour}" if a.gateway_neighbour else ""
    return Hop("a-egress", node, "pass", f"{text} from {lookup.source or a_ip}{neighbour}", evidence)


def _dropped_by(side: ConnectSide, chains: tuple[str, ...] = ()) -> str | None:
    """A DROP/REJECT rule or DROP policy whose counter moved during the dial, as one phrase."""
    for rule, count in side.firewall.hits():
        if rule.table == "filter" and (not chains or rule.chain in chains or not rule.chain.isupper()):
            return f"{count} packet{'s' if count != 1 else ''} dropped by {rule.backend} iptables `{rule.rule}`"
    for chain, count in side.firewall.policy_hits().items():
        if not chains or chain.split()[-1] in chains:
            return f"{count} packet{'s' if count != 1 else ''} fell to the {chain} DROP policy"
    return None


def forward_hop(a: ConnectSide, b: ConnectSide, b_ip: str, same_node: bool) -> Hop:
    node = _node(a)
    if a.report.pod.host_network:
        return Hop("a-forward", node, "skip", "hostNetwork pod: its packets leave the node's own netns, not forwarded")
    lookup, sysctls = a.node_lookup, a.sysctls
    evidence: dict[str, object] = {"lookup": lookup_text(lookup) if lookup else None, "iif": a.iif,
                                   "sysctls": to_json(sysctls), "firewall": a.firewall.errors}
    peer = primary_interface(a.report.interfaces)
    bridge = peer.peer.master if peer and peer.peer else None
    b_peer = primary_interface(b.report.interfaces)
    if same_node and bridge and b_peer and b_peer.peer and b_peer.peer.master == bridge:
        dropped = _dropped_by(a, ("FORWARD",)) if sysctls and sysctls.bridge_nf_call_iptables else None
        if dropped:
            return Hop("a-forward", node, "fail", f"{bridge} switches A to B, and br_netfilter sends bridged "
                       f"frames through FORWARD: {dropped}", evidence, "allow pod-to-pod traffic in FORWARD "
                       "(or the CNI's own rules), or unload br_netfilter if nothing needs it")
        return Hop("a-forward", node, "pass", f"same bridge {bridge}: switched, not routed", evidence)
    if lookup is None:
        return Hop("a-forward", node, "warn", "the node's lookup for A's packet was not made (no host veth)", evidence)
    forward_off = [dev for dev, value in (sysctls.forwarding.items() if sysctls else []) if value == 0]
    if lookup.type == "local":  # B's address is the node's own (a hostNetwork B): delivered, not forwarded
        return Hop("a-forward", node, "pass", f"{node} delivers it to itself: {lookup_text(lookup)} (B uses the "
                   "node's netns)", evidence)
    if sysctls and sysctls.ip_forward == 0:
        return Hop("a-forward", node, "fail", f"{node} does not forward: net.ipv4.ip_forward=0, so A's packets to "
                   f"{b_ip} stop at the node ({lookup_text(lookup)})", evidence,
                   "sysctl -w net.ipv4.ip_forward=1 on the node (and persist it in /etc/sysctl.d); the CNI or "
                   "kube-proxy usually sets it")
    if lookup.error == "EXDEV":
        rp = sysctls.rp_filter if sysctls else {}
        return Hop("a-forward", node, "fail", f"rp_filter drops A's packets arriving on {a.iif} ({lookup_text(lookup)};"
                   f" rp_filter {rp}): the node's route back to A's IP leaves by another device", evidence,
                   f"set net.ipv4.conf.{a.iif}.rp_filter=2 (loose) or 0, or fix the route to A's IP")
    if lookup.error or lookup.type not in ("unicast", "local"):
        if forward_off:
            return Hop("a-forward", node, "fail", f"forwarding is off on {', '.join(forward_off)} of {node}: "
                       f"{lookup_text(lookup)}", evidence, f"sysctl -w net.ipv4.conf.{forward_off[0]}.forwarding=1")
        return Hop("a-forward", node, "fail", f"{node} has no route for A's packet to {b_ip}: {lookup_text(lookup)}",
                   evidence, "the CNI writes the routes to other nodes' pod CIDRs (flannel: one per node via "
                   "flannel.1; Calico: per IPAM block): check its agent on this node")
    dropped = _dropped_by(a, ("FORWARD",))
    if dropped:
        return Hop("a-forward", node, "fail", f"{node} routes it ({lookup_text(lookup)}) but {dropped}", evidence,
                   "allow pod-to-pod traffic in the FORWARD chain (both iptables backends: legacy and nft)")
    return Hop("a-forward", node, "pass", f"{node}: {b_ip} from {_ip(a, 6 if ':' in b_ip else 4)} iif {a.iif} -> "
               f"{lookup_text(lookup)}", evidence)


def _outside_pod_cidr(b: ConnectSide, api: NodeRef | None) -> str | None:
    """B's pod IP outside every podCIDR the API gives B's node: routes to that node miss it."""
    if api is None or not api.pod_cidrs:
        return None
    ips = [ipaddress.ip_address(ip) for ip in b.report.pod.pod_ips]
    cidrs = [ipaddress.ip_network(cidr, strict=False) for cidr in api.pod_cidrs]
    outside = [str(ip) for ip in ips if not any(ip.version == c.version and ip in c for c in cidrs)]
    return ", ".join(outside) if outside else None


def overlay_hop(a: ConnectSide, b: ConnectSide, b_node_ip: str | None, same_node: bool, connected: bool,
                stopped_at: Hop | None = None, api: NodeRef | None = None) -> Hop:
    node = _node(a)
    if same_node:
        return Hop("overlay", node, "skip", "same node: no tunnel or route between nodes")
    lookup, tunnel = a.node_lookup, a.tunnel
    captured = {c.what: c for c in b.captures}
    arrived = captured.get("encapsulated")
    evidence: dict[str, object] = {"tunnel": to_json(tunnel), "nodeIp": b_node_ip,
                                   "captures": [f"{c.device} ({c.what}): {c.packets}" for c in b.captures]}
    dropped_at_b = _dropped_by(b, ("INPUT",))
    if api is not None:
        evidence["api"] = to_json(api)
    outside = _outside_pod_cidr(b, api)
    if tunnel is not None:
        where = f"{tunnel.kind} {tunnel.name}" + (f" (vni {tunnel.vni}, port {tunnel.port})" if tunnel.vni else "")
        vtep = api.public_ip if api and api.public_ip else b_node_ip
        if api and api.vtep_mac and tunnel.gateway_mac and tunnel.gateway_mac != api.vtep_mac:
            return Hop("overlay", node, "fail", f"{where}: the next hop {tunnel.gateway}'s neighbour entry is "
                       f"{tunnel.gateway_mac}, but {_node(b)}'s flannel VtepMAC (its backend-data annotation) is "
                       f"{api.vtep_mac}: a stale neighbour entry", evidence,
                       f"restart kube-flannel on {node} so it rewrites its neighbour and FDB entries, or by hand: ip "
                       f"neigh replace {tunnel.gateway} lladdr {api.vtep_mac} dev {tunnel.name} nud permanent")
        if tunnel.remotes and vtep and vtep not in tunnel.remotes:
            said = "flannel public-ip" if api and api.public_ip else "InternalIP"
            return Hop("overlay", node, "fail", f"{where}: the FDB sends {tunnel.gateway_mac} (next hop "
                       f"{tunnel.gateway}) to {', '.join(tunnel.remotes)}, but {_node(b)}'s {said} is "
                       f"{vtep}: a stale VTEP entry", evidence,
                       f"restart the CNI agent on {node} so it rewrites its FDB (flannel: kube-flannel; Calico: "
                       f"calico-node), or by hand: bridge fdb replace {tunnel.gateway_mac} dev {tunnel.name} dst "
                       f"{vtep}")
        to = f"-> {', '.join(tunnel.remotes)}" if tunnel.remotes else "(no FDB entry: the CNI's eBPF or a learning " \
            "device picks the remote)"
        text = f"{where} {to}"
    elif lookup is not None and lookup.gateway:
        family = family_of(b.report.cni)
        if b_node_ip and lookup.gateway != b_node_ip and family.name not in ("aws-vpc", "azure"):
            return Hop("overlay", node, "fail", f"{node} routes B's pod CIDR via {lookup.gateway}, not {_node(b)}'s "
                       f"InternalIP {b_node_ip} ({lookup_text(lookup)})", evidence,
                       "the route to each node's pod CIDR must point at that node: check the CNI's routes (kindnet, "
                       "Calico BGP) or the cloud's route table")
        text = f"routed via {lookup.gateway} dev {lookup.dev}"
    else:
        text = f"via {lookup.dev}" if lookup is not None and lookup.dev else "no route between the nodes was read"
    if not connected and stopped_at is not None:  # they never got this far: no capture can judge the tunnel
        return Hop("overlay", node, "skip", f"{text}; not reached: the packets stop at {stopped_at.id} on "
                   f"{stopped_at.node}", evidence)
    if not connected:
        if arrived is not None and arrived.packets == 0:
            return Hop("overlay", node, "fail", f"{text}: the packets left {node} and never reached {_node(b)}'s "
                       f"uplink {arrived.device} (0 seen while it listened)", evidence,
                       "the underlay drops them: check the firewall between the nodes for the tunnel's port "
                       "(vxlan: UDP 8472 or 4789) or the cloud's security groups")
        if dropped_at_b:
            return Hop("overlay", _node(b), "fail", f"{text}: the packets reached {_node(b)}"
                       f"{f' ({arrived.packets} on {arrived.device})' if arrived else ''} and were dropped there: "
                       f"{dropped_at_b}", evidence, f"allow the tunnel's port in {_node(b)}'s INPUT chain")
    if outside:
        return Hop("overlay", node, "warn", f"{text}; B's IP {outside} is outside {_node(b)}'s podCIDR "
                   f"{', '.join(api.pod_cidrs if api else [])}: routes to that node's pods may miss it", evidence)
    return Hop("overlay", node, "pass", text + (f"; {arrived.packets} of its packets arrived on {_node(b)}'s "
                                                f"{arrived.device}" if arrived and arrived.packets else ""), evidence)


def deliver_hop(a: ConnectSide, b: ConnectSide, same_node: bool, connected: bool) -> Hop:
    node = _node(b)
    if same_node:
        return Hop("b-deliver", node, "skip", "same node: the forwarding hop delivered it")
    if b.report.pod.host_network:
        return Hop("b-deliver", node, "skip", "B is a hostNetwork pod: delivered to the node itself")
    lookup = b.node_lookup
    eth0 = primary_interface(b.report.interfaces)
    expected = [n for n in ((eth0.peer.name, eth0.peer.master) if eth0 and eth0.peer else ()) if n]
    expected += list(family_of(b.report.cni).delivery)
    inner = next((c for c in b.captures if c.what == "inner"), None)
    evidence: dict[str, object] = {"lookup": lookup_text(lookup) if lookup else None, "iif": b.iif,
                                   "expected": expected, "sysctls": to_json(b.sysctls)}
    if lookup is None:
        return Hop("b-deliver", node, "warn", f"{node}'s lookup for B was not made", evidence)
    if lookup.error and b.sysctls is not None and b.sysctls.ip_forward == 0:
        return Hop("b-deliver", node, "fail", f"{node} does not forward: net.ipv4.ip_forward=0, so packets from the "
                   f"tunnel stop there ({lookup_text(lookup)} as it arrives on {b.iif})", evidence,
                   "sysctl -w net.ipv4.ip_forward=1 on the node (and persist it in /etc/sysctl.d)")
    if lookup.error == "EXDEV":
        return Hop("b-deliver", node, "fail", f"rp_filter on {node} drops A's packets arriving on {b.iif} "
                   f"({lookup_text(lookup)}; rp_filter {b.sysctls.rp_filter if b.sysctls else {}})", evidence,
                   f"set net.ipv4.conf.{b.iif}.rp_filter=2 (loose) or 0 on {node}")
    if lookup.error or lookup.dev not in expected:
        what = "refuses it" if lookup.error else f"sends it to {lookup.dev}, not B's veth or bridge"
        return Hop("b-deliver", node, "fail", f"{node} {what}: {lookup_text(lookup)} (as it arrives on {b.iif})",
                   evidence, "see `kubectl podnet inspect` on B: its routes check names the node's route to B")
    dropped = _dropped_by(b, ("FORWARD",))
    if not connected and dropped:
        return Hop("b-deliver", node, "fail", f"{node} routes it to {lookup.dev} but {dropped}", evidence,
                   f"allow pod-to-pod traffic in {node}'s FORWARD chain")
    seen = f"; {inner.packets} reached {inner.device}" if inner and inner.packets else ""
    return Hop("b-deliver", node, "pass", f"{node}: {lookup_text(lookup)} (as it arrives on {b.iif}){seen}", evidence)


def _masquerades(side: ConnectSide) -> list[str]:
    return [f"{rule.backend} iptables `{rule.rule}` ({count} packets)" for rule, count in side.firewall.hits()
            if rule.table == "nat"]


def connection_hop(a: ConnectSide, b: ConnectSide, a_ip: str | None, b_ip: str) -> Hop:
    node = _node(b)
    accepted = b.accepted
    dial = a.dials[0] if a.dials else None
    evidence: dict[str, object] = {"dial": to_json(dial), "accepted": to_json(accepted)}
    if accepted is None or not accepted.listening:
        why = accepted.error if accepted else "no answer"
        return Hop("connection", node, "fail", f"the one-off listener could not open in B's netns ({why})", evidence)
    if dial is None or not dial.ok:
        error = dial.error if dial else "not dialled"
        inner = next((c for c in b.captures if c.what == "inner"), None)
        where = f"; {inner.packets} of its packets reached B's veth" if inner and inner.packets else ""
        return Hop("connection", node, "fail", f"A could not connect to {b_ip}:{dial.port if dial else '?'} "
                   f"({error}, {dial.attempts if dial else 0} attempts){where}", evidence)
    nat = []
    # no SNAT: B saw exactly the address A sent from (a pod's is its pod IP: a-egress checks that;
    # a hostNetwork A sends from whichever node address its route picks)
    sent_from = dial.local or a_ip
    if accepted.peer and sent_from and accepted.peer != sent_from:
        nat.append(f"B saw the connection from {accepted.peer}, not {sent_from}, the address A sent from (SNAT)")
    if accepted.local and accepted.local != b_ip:
        nat.append(f"A reached {accepted.local}, not B's pod IP {b_ip} (DNAT)")
    if nat:
        rules = _masquerades(a)
        return Hop("connection", node, "fail", "; ".join(nat) + (f": {', '.join(rules)}" if rules else ""), evidence,
                   "pod-to-pod traffic must not be masqueraded: exclude the cluster CIDR from MASQUERADE "
                   "(kube-proxy --cluster-cidr, the CNI's ipMasq or natOutgoing setting)")
    who = "A's pod IP" if not a.report.pod.host_network else "the node address A (hostNetwork) sent from"
    return Hop("connection", node, "pass", f"connected in {dial.millis:.0f} ms; B saw {accepted.peer} = {who} "
               f"(no SNAT), A reached {accepted.local} = B's pod IP (no DNAT)", evidence)


def mtu_hop(a: ConnectSide, b: ConnectSide, connected: bool) -> Hop:
    node = _node(a)
    sent = {probe.size: probe.error for probe in a.mtu_sent}
    shown = {str(size): error or "sent" for size, error in sent.items()}
    arrived = set(b.accepted.udp_sizes if b.accepted else [])
    evidence: dict[str, object] = {"sent": shown, "arrived": sorted(arrived), "uplinks": [a.uplink_mtu, b.uplink_mtu],
                                   "tunnel": a.tunnel.mtu if a.tunnel else None}
    if not connected or not sent:
        return Hop("mtu", node, "skip", "no connection to probe the MTU over", evidence)
    largest = max(sent)
    if not arrived:
        return Hop("mtu", node, "warn", f"none of the UDP probes ({', '.join(map(str, sorted(sent)))} bytes, DF set) "
                   "arrived though TCP connected: UDP to the port is dropped on the way", evidence)
    if largest in arrived:
        return Hop("mtu", node, "pass", f"a {largest}-byte packet with DF set (A's path MTU) arrives", evidence)
    passes = max(arrived)
    return Hop("mtu", node, "fail", f"packets of {largest} bytes (A's path MTU) are dropped between A and B; the "
               f"largest that arrives is {passes}: small requests work, large responses hang", evidence,
               f"lower the pod MTU to {passes} or less (the CNI's MTU setting) or raise the underlay's MTU, then "
               "recreate the pods")


def port_hop(a: ConnectSide, b: ConnectSide) -> Hop | None:
    real: Dial | None = a.dials[1] if len(a.dials) > 1 else None
    if real is None:
        return None
    if real.ok:
        return Hop("port", _node(b), "pass", f"B's own listener answers at {real.target}:{real.port}")
    why = "nothing listens there" if real.error == "ECONNREFUSED" else "no answer"
    return Hop("port", _node(b), "fail", f"{real.target}:{real.port}: {real.error} ({why})",
               {"dial": to_json(real)}, "see `kubectl podnet inspect` on B: pod-ip says whether that port is bound to the pod IP")


def policy_hop(policies: list[PolicyRef], connected: bool, unknown: bool = False) -> Hop:
    listed = [f"{p.namespace}/{p.name} ({p.direction} of {p.selects.upper()})" for p in policies]
    if unknown:
        return Hop("policy", None, "skip", "the NetworkPolicies could not be listed (RBAC: networkpolicies list; "
                   "`kubectl podnet agent rbac` grants it)" + (f"; seen: {', '.join(listed)}" if listed else ""))
    if not policies:
        return Hop("policy", None, "pass", "no NetworkPolicy selects A (egress) or B (ingress)")
    if connected:
        return Hop("policy", None, "pass", f"allowed by: {', '.join(listed)}", {"policies": listed})
    return Hop("policy", None, "warn", f"NetworkPolicies select them: {', '.join(listed)}: the failure may be theirs",
               {"policies": listed}, "kubectl describe networkpolicy NAME: does one allow A to B on this port?")


def judge(a: ConnectSide, b: ConnectSide, b_node_ip: str | None, same_node: bool,
          policies: list[PolicyRef], policies_unknown: bool = False, api: NodeRef | None = None) -> list[Hop]:
    family = 6 if any(":" in ip for ip in b.report.pod.pod_ips[:1]) else 4
    b_ip = _ip(b, family) or ""
    a_ip = _ip(a, family)
    connected = bool(a.dials and a.dials[0].ok)
    first = [egress_hop(a, b_ip), forward_hop(a, b, b_ip, same_node)]
    stopped = next((hop for hop in first if hop.status == "fail"), None)
    path = first + [overlay_hop(a, b, b_node_ip, same_node, connected, stopped, api),
                    deliver_hop(a, b, same_node, connected)]
    ends = [connection_hop(a, b, a_ip, b_ip), mtu_hop(a, b, connected)]
    port = port_hop(a, b)
    if port is not None:
        ends.append(port)
    # one story: a dial that failed because the path broke says where, instead of a bare timeout
    broken = next((hop for hop in path if hop.status == "fail"), None)
    if broken is not None:
        ends = [replace(hop, detail=f"{hop.detail}: the path breaks at {broken.id} on {broken.node} (above)", fix=None)
                if hop.status == "fail" and hop.id in ("connection", "port") and not connected else hop
                for hop in ends]
    return path + ends + [policy_hop(policies, connected, policies_unknown)]


def verdict_of(hops: list[Hop]) -> Status:
    return worst([h.status for h in hops])


def path_line(a: ConnectSide, b: ConnectSide, hops: list[Hop], same_node: bool) -> str:
    """The path in the seed's style, each hop's mark after the piece it judged."""
    marks = {h.id: {"pass": "", "skip": "", "warn": " (!)", "fail": " [X]"}[h.status] for h in hops}
    a_eth = primary_interface(a.report.interfaces)
    b_eth = primary_interface(b.report.interfaces)
    if a.report.pod.host_network:
        pieces = [f"{_name(a)} (the node's netns){marks['a-egress']}"]
    else:
        pieces = [f"{_name(a)} {a_eth.name if a_eth else 'eth0'}{marks['a-egress']}"]
    if a_eth and a_eth.peer and a_eth.peer.name and not a.report.pod.host_network:
        pieces.append(a_eth.peer.name)
        if a_eth.peer.master:
            pieces.append(a_eth.peer.master)
    pieces[-1] += marks["a-forward"]
    b_pieces = []
    if b_eth and b_eth.peer and b_eth.peer.name:
        if b_eth.peer.master:
            b_pieces.append(b_eth.peer.master)
        b_pieces.append(b_eth.peer.name)
    b_end = (f"{_name(b)} (the node's netns){marks['connection']}" if b.report.pod.host_network
             else f"{_name(b)} {b_eth.name if b_eth else 'eth0'}{marks['connection']}")
    if b.report.pod.host_network:
        b_pieces = []
    if same_node:
        return " -> ".join(dict.fromkeys(pieces + b_pieces)) + " -> " + b_end
    tunnel = a.tunnel
    if tunnel is not None:
        vni = f" (vni {tunnel.vni})" if tunnel.vni is not None else ""
        port = f"=udp {tunnel.port}=>" if tunnel.port else "=>"
        b_uplink = b.report.uplink.name if b.report.uplink else "eth0"
        arrives = f" -> {b.iif}" if b.iif and b.iif != b_uplink else ""
        pieces.append(f"{tunnel.name}{vni} {port}{marks['overlay']} {_node(b)} {b_uplink}{arrives}")
    else:
        via = a.node_lookup.dev if a.node_lookup and a.node_lookup.dev else "uplink"
        pieces.append(f"{via} =>{marks['overlay']} {_node(b)}")
    b_pieces[-1:] = [b_pieces[-1] + marks["b-deliver"]] if b_pieces else []
    return " -> ".join(pieces + b_pieces + [b_end])


def build_connect(a: ConnectSide, b: ConnectSide, a_node_ip: str | None, b_node_ip: str | None, same_node: bool,
                  policies: list[PolicyRef], policies_unknown: bool = False,
                  target_node: NodeRef | None = None) -> PodNetConnect:
    """Both sides' facts and their hops, as one `PodNetConnect` document."""
    hops = judge(a, b, b_node_ip, same_node, policies, policies_unknown, target_node)
    return PodNetConnect(
        api_version=API_VERSION, kind=CONNECT_KIND, generator=Generator("kubectl-podnet", __version__),
        source=a, target=b, source_node_ip=a_node_ip, target_node_ip=b_node_ip, same_node=same_node,
        target_node=target_node,
        policies=policies, hops=hops, path=path_line(a, b, hops, same_node),
        verdict="fail" if verdict_of(hops) == "fail" else "pass",
    )

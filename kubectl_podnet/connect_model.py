"""`connect A B`: what each node's agent is asked, what it saw, and the report the hops make.

Two agents, one per node, run the same code in two roles: the *source* (A's node) reads
A's egress, its node's forwarding of A's packet and the tunnel it enters, and dials B; the
*target* (B's node) opens a one-off listener inside B's netns, reads its node's delivery of
the packet, watches its uplink and B's host veth for it, and reports whom it accepted. Each
side's facts are the kernel's own answers on that node; `checks/hops.py` (pure) joins both sides
into the hop verdicts of `PodNetConnect`. Each side also carries the pod's own inspect
report whole (a value travels once).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from kubectl_podnet.model import InspectRequest, PodNetReport, ReportHeader, RouteLookup, Status

CONNECT_KIND = "PodNetConnect"
Role = Literal["source", "target"]


@dataclass(frozen=True)
class ConnectRequest:
    """One side of a connect: the pod on this node, the other pod's address, the port to use."""

    role: Role
    pod: InspectRequest
    peer_ip: str  # the other pod's IP (the family of the connect)
    port: int  # the one-off listener's port, chosen by the client (free on the target, checked there)
    peer_node_ip: str | None = None  # the other node's InternalIP, as the API says
    same_node: bool = False
    real_port: int | None = None  # `B:PORT`: also dial B's own listener there (source)
    timeout: float = 3.0  # how long the target listens, and the source keeps dialling
    mtu_sizes: list[int] = field(default_factory=list)  # source: IP packet sizes to send with DF set


@dataclass(frozen=True)
class Sysctls:
    """The node's forwarding switches (its netns's /proc/sys/net), for the devices on the path."""

    ip_forward: int | None
    forwarding: dict[str, int] = field(default_factory=dict)  # device (and "all") -> conf/DEV/forwarding
    rp_filter: dict[str, int] = field(default_factory=dict)  # device (and "all") -> conf/DEV/rp_filter
    bridge_nf_call_iptables: int | None = None  # None: br_netfilter is not loaded


@dataclass(frozen=True)
class FirewallRule:
    """One iptables rule (as iptables-save prints it, with its counters) on the path's chains."""

    backend: str  # "legacy" or "nft" (iptables-legacy-save / iptables-nft-save)
    table: str
    chain: str
    rule: str  # the rule as `iptables-save` prints it, without the counters
    target: str  # DROP, REJECT, MASQUERADE, SNAT, ...
    packets: int | None = None


@dataclass(frozen=True)
class Firewall:
    """The chains a forwarded pod packet meets, read before and after the dial (their counters)."""

    policies: dict[str, str] = field(default_factory=dict)  # "legacy filter FORWARD" -> "DROP"
    policy_packets: dict[str, int] = field(default_factory=dict)  # the same chains' policy counters, before
    rules: list[FirewallRule] = field(default_factory=list)  # before the dial
    after: list[FirewallRule] = field(default_factory=list)  # the same, after it (counters moved?)
    policy_packets_after: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # a backend that could not be read, and why

    def with_after(self, after: Firewall) -> Firewall:
        return replace(self, after=after.rules, policy_packets_after=after.policy_packets,
                       errors=list(dict.fromkeys(self.errors + after.errors)))

    def hits(self) -> list[tuple[FirewallRule, int]]:
        """The rules whose packet counters moved during the dial, with by how much."""
        before = {(r.backend, r.table, r.chain, r.rule): r.packets or 0 for r in self.rules}
        return [(r, (r.packets or 0) - before.get((r.backend, r.table, r.chain, r.rule), 0)) for r in self.after
                if (r.packets or 0) > before.get((r.backend, r.table, r.chain, r.rule), 0)]

    def policy_hits(self) -> dict[str, int]:
        """The DROP policies whose counters moved during the dial (packets that fell through every rule)."""
        return {chain: self.policy_packets_after.get(chain, 0) - count for chain, count in self.policy_packets.items()
                if self.policies.get(chain) == "DROP" and self.policy_packets_after.get(chain, 0) > count}


@dataclass(frozen=True)
class Tunnel:
    """The tunnel device the node's lookup chose, and where it sends the packet."""

    name: str
    kind: str
    mtu: int
    vni: int | None = None
    port: int | None = None  # the UDP port it sends to
    local: str | None = None
    gateway: str | None = None  # the lookup's next hop (flannel: the other node's flannel.1 address)
    gateway_mac: str | None = None  # the neighbour entry of that next hop on this device
    remotes: list[str] = field(default_factory=list)  # the FDB's destinations for that MAC (the remote VTEP)


@dataclass(frozen=True)
class Dial:
    """A TCP connect from inside the source pod's netns."""

    target: str
    port: int
    ok: bool
    error: str | None
    local: str | None = None  # getsockname: the address the pod sent from
    millis: float = 0.0
    attempts: int = 1


@dataclass(frozen=True)
class Sent:
    """One MTU probe size the source sent twice with DF set (`error`: why it could not)."""

    size: int
    error: str | None = None


@dataclass(frozen=True)
class Accepted:
    """What the one-off listener in the target pod's netns saw."""

    listening: bool
    error: str | None = None  # why it could not listen
    peer: str | None = None  # getpeername of the accepted connection: whom B saw
    local: str | None = None  # getsockname: the address A reached (B's own, or a DNAT's)
    udp_sizes: list[int] = field(default_factory=list)  # the IP packet sizes of the MTU probes that arrived


@dataclass(frozen=True)
class Capture:
    """Packets of this connect seen on one device of the target node while it listened."""

    device: str
    what: str  # "encapsulated" (the tunnel's UDP from A's node) or "inner" (A's packets to B)
    packets: int
    error: str | None = None


@dataclass(frozen=True)
class ConnectSide:
    """One node's answer: the pod's report, and the kernel's answers along the path there."""

    role: Role
    report: PodNetReport
    host_veth: str | None
    egress: RouteLookup | None = None  # source: `ip route get B` in A's netns
    gateway_neighbour: str | None = None  # source: the state of that route's gateway in A's neighbour table
    node_lookup: RouteLookup | None = None  # `ip route get B from A iif DEV` in the node's netns
    iif: str | None = None  # the DEV of that lookup
    sysctls: Sysctls | None = None
    firewall: Firewall = field(default_factory=Firewall)
    tunnel: Tunnel | None = None
    uplink_mtu: int | None = None
    dials: list[Dial] = field(default_factory=list)  # source: the one-off listener, then B's real port
    mtu_sent: list[Sent] = field(default_factory=list)  # source: the MTU probes, largest first
    accepted: Accepted | None = None  # target
    captures: list[Capture] = field(default_factory=list)  # target


@dataclass(frozen=True)
class Hop:
    """One step of the path, judged from both nodes' facts."""

    id: str  # stable: a-egress, a-forward, overlay, b-deliver, connection, mtu, port, policy
    node: str | None
    status: Status
    detail: str
    evidence: dict[str, object] = field(default_factory=dict)
    fix: str | None = None


@dataclass(frozen=True)
class PolicyRef:
    """A NetworkPolicy that selects A (egress) or B (ingress), as the API lists it."""

    namespace: str
    name: str
    direction: Literal["egress", "ingress"]
    selects: str  # "a" or "b"


@dataclass(frozen=True)
class NodeRef:
    """What the API says of a node, to cross-check the kernel's answers with."""

    name: str
    internal_ip: str | None = None
    pod_cidrs: list[str] = field(default_factory=list)  # spec.podCIDRs
    vtep_mac: str | None = None  # flannel's backend-data annotation: its flannel.1 MAC
    public_ip: str | None = None  # flannel's public-ip annotation: the address other nodes' FDBs name


@dataclass(frozen=True, kw_only=True)
class PodNetConnect(ReportHeader):
    source: ConnectSide
    target: ConnectSide
    source_node_ip: str | None
    target_node_ip: str | None
    same_node: bool
    target_node: NodeRef | None = None  # the API's view of B's node (None: not read)
    policies: list[PolicyRef]
    hops: list[Hop]
    path: str
    verdict: Literal["pass", "fail"]


EPHEMERAL = (42000, 60999)  # the one-off listener's port range: away from servers' usual ports


def connect_requests(a: InspectRequest, b: InspectRequest, a_node_ip: str | None, b_node_ip: str | None,
                     same_node: bool, port: int, timeout: float, real_port: int | None = None,
                     family: int = 4) -> tuple[ConnectRequest, ConnectRequest]:
    """The source's and the target's request for one connect. Pure."""
    a_ip = next(ip for ip in a.pod_ips if (":" in ip) == (family == 6))
    b_ip = next(ip for ip in b.pod_ips if (":" in ip) == (family == 6))
    source = ConnectRequest(role="source", pod=a, peer_ip=b_ip, port=port, peer_node_ip=b_node_ip,
                            same_node=same_node, real_port=real_port, timeout=timeout)
    target = ConnectRequest(role="target", pod=b, peer_ip=a_ip, port=port, peer_node_ip=a_node_ip,
                            same_node=same_node, timeout=timeout)
    return source, target

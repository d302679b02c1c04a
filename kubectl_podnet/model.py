"""The report: the versioned contract between the node agent, the client and CI.

`PodNetReport` is what `-o json` prints and what the agent returns; its schema is
documented in docs/report.md and round-trip tested. Fields are only ever added
(readers ignore unknown keys); a breaking change bumps `API_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

API_VERSION = "podnet/v1"
REPORT_KIND = "PodNetReport"

Status = Literal["pass", "warn", "fail", "skip"]
Role = Literal["app", "init", "sidecar", "ephemeral", "unknown"]
Transport = Literal["tcp", "udp"]


@dataclass(frozen=True)
class ContainerState:
    """A container's state as the API server reports it (`status.*ContainerStatuses[]`)."""

    state: Literal["running", "waiting", "terminated", "unknown"]
    reason: str | None = None  # waiting: CrashLoopBackOff, ImagePullBackOff...; terminated: Completed, Error...
    exit_code: int | None = None  # terminated
    last_exit_code: int | None = None  # waiting after a crash: how its last run ended
    restart_count: int = 0

    @property
    def text(self) -> str:
        """`waiting: CrashLoopBackOff, last exit code 1, 4 restarts`, as a person reads it."""
        parts = [f"{self.state}: {self.reason}" if self.reason else self.state]
        if self.exit_code is not None:
            parts.append(f"exit code {self.exit_code}")
        if self.last_exit_code is not None:
            parts.append(f"last exit code {self.last_exit_code}")
        if self.restart_count:
            parts.append(f"{self.restart_count} restart{'s' if self.restart_count != 1 else ''}")
        return ", ".join(parts)


@dataclass(frozen=True)
class ContainerRef:
    """A container the API server says the pod has; `id` is the runtime's 64-hex id
    (empty for a container that has not run yet)."""

    id: str
    name: str | None = None
    role: Role = "app"
    status: ContainerState | None = None  # None: not from the API (`node inspect --container`)


@dataclass(frozen=True)
class DeclaredPort:
    """A port the pod spec says the cluster will dial: a containerPort or a probe's port."""

    port: int
    protocol: Transport
    container: str
    source: str  # "containerPort", "readinessProbe", "livenessProbe" or "startupProbe"
    name: str | None = None  # the port's name, when the spec named it


@dataclass(frozen=True)
class AttachedNetwork:
    """One entry of the pod's `k8s.v1.cni.cncf.io/network-status` annotation (Multus)."""

    network: str  # e.g. "default/macvlan-conf", or the cluster network's name
    interface: str | None
    ips: list[str] = field(default_factory=list)
    mac: str | None = None
    default: bool = False


@dataclass(frozen=True)
class InspectRequest:
    """What the node agent is asked: everything it needs, nothing it must look up."""

    pod_uid: str
    containers: list[ContainerRef] = field(default_factory=list)
    pod_ips: list[str] = field(default_factory=list)
    namespace: str | None = None
    name: str | None = None
    node: str | None = None
    host_network: bool | None = None
    probe_timeout: float = 0.5
    declared_ports: list[DeclaredPort] = field(default_factory=list)
    networks: list[AttachedNetwork] = field(default_factory=list)


@dataclass(frozen=True)
class PodInfo:
    uid: str
    namespace: str | None
    name: str | None
    node: str | None
    host_network: bool
    pod_ips: list[str]
    declared_ports: list[DeclaredPort] = field(default_factory=list)
    networks: list[AttachedNetwork] = field(default_factory=list)


@dataclass(frozen=True)
class Sandbox:
    """The pause container, or the pinned netns when the runtime runs no pause process."""

    source: Literal["pause-process", "pinned-netns", "none"]
    netns_inode: int | None
    netns_path: str | None
    pid: int | None = None
    container_id: str | None = None
    command: str | None = None
    pinned_path: str | None = None


@dataclass(frozen=True)
class ContainerFacts:
    id: str
    name: str | None
    role: Role
    runtime: str | None
    pids: list[int]
    command: str | None
    netns_inode: int | None
    cgroup_path: str | None
    status: ContainerState | None = None  # the API's state; None when the request carried none

    @property
    def label(self) -> str:
        """How people call it: its name, or its short id when the API gave no name."""
        return self.name or self.id[:12]


@dataclass(frozen=True)
class Address:
    address: str
    prefixlen: int
    family: Literal[4, 6]
    scope: str


@dataclass(frozen=True)
class Peer:
    """The host end of a pod veth, seen from the agent's (host) netns."""

    ifindex: int
    name: str | None
    kind: str | None
    confirmed: bool
    master: str | None = None
    master_kind: str | None = None
    routes: list[str] = field(default_factory=list)
    reason: str | None = None
    mtu: int | None = None


@dataclass(frozen=True)
class Link:
    """What the kernel says of any link: a pod's interface, a link of the node's netns."""

    ifindex: int
    name: str
    kind: str
    mtu: int
    state: str
    mac: str | None
    addresses: list[Address] = field(default_factory=list)


@dataclass(frozen=True)
class Interface(Link):
    link_ifindex: int | None = None
    link_netnsid: int | None = None
    peer: Peer | None = None


@dataclass(frozen=True)
class Route:
    dst: str
    gateway: str | None
    dev: str | None
    scope: str
    family: Literal[4, 6]
    onlink: bool = False  # the gateway is declared on-link (`onlink`), as routed CNIs do
    type: str = "unicast"  # or "blackhole", "unreachable", "prohibit", "throw" (they have no dev)
    mtu: int | None = None  # the route's own MTU metric (`mtu 1450`): it caps the device's for this path
    advmss: int | None = None  # the route's advertised MSS metric (`advmss 1410`)


@dataclass(frozen=True)
class Listener:
    """A TCP socket in LISTEN, or a bound unconnected UDP socket (UDP has no listen state)."""

    family: Literal[4, 6]
    address: str
    port: int
    inode: int
    container: str | None
    protocol: Transport = "tcp"


@dataclass(frozen=True)
class Probe:
    target: str
    port: int
    ok: bool
    error: str | None
    millis: float


@dataclass(frozen=True)
class NodeLink:
    """A link of the node's netns (the agent's own)."""

    ifindex: int
    name: str
    kind: str
    mtu: int
    link_netnsid: int | None = None  # a veth whose peer lives in another netns (a pod's) has one


@dataclass(frozen=True)
class OverlayLink:
    """A tunnel device of the node (vxlan, geneve, ipip, wireguard), and what leads into it."""

    name: str
    kind: str
    mtu: int
    underlay_family: Literal[4, 6]  # the tunnel's outer header: 50 bytes over IPv4, 70 over IPv6
    master: str | None = None  # the bridge it is a port of (OVS-less bridged overlays)
    routes: list[str] = field(default_factory=list)  # main-table destinations routed into it


@dataclass(frozen=True)
class RouteLookup:
    """The node kernel's answer to `ip route get DESTINATION` (RTM_GETROUTE), in the node netns."""

    destination: str
    type: str  # "unicast", "local", "unreachable", ...
    dev: str | None
    ifindex: int | None
    kind: str | None  # the out-device's kind (veth, bridge, vxlan, device, ...)
    gateway: str | None = None
    error: str | None = None
    mtu: int | None = None  # the matched route's MTU metric, as the kernel's answer carries it
    matched: Route | None = None  # when the kernel answers only an error: the longest-prefix route of the dump
    peer_elsewhere: bool = False  # the out-device is a veth whose peer lives in another netns (a pod's)
    source: str | None = None  # the source address the kernel would pick (RTA_PREFSRC)


@dataclass(frozen=True)
class CniConfig:
    """The CNI configuration the runtime uses: the first file of the node's /etc/cni/net.d."""

    file: str
    name: str | None
    plugins: list[str] = field(default_factory=list)  # each plugin's `type`, in chain order


@dataclass(frozen=True)
class CniInfo:
    """Which CNI wired this node, as its own devices and config say (`kubectl_podnet.cni`)."""

    family: str  # a name of `cni.FAMILIES`: "cilium", "calico", "flannel", ..., or "unknown"
    mode: str | None = None  # how it crosses nodes: "vxlan", "geneve", "ipip", "wireguard", "native"
    tunnels: list[str] = field(default_factory=list)  # devices pod traffic enters with no route into them (eBPF)
    evidence: list[str] = field(default_factory=list)  # what said so: devices, the config file
    config: CniConfig | None = None


@dataclass(frozen=True)
class NodeFacts:
    """Everything the agent saw; checks turn these into verdicts."""

    pod: PodInfo
    sandbox: Sandbox
    node_netns_inode: int
    containers: list[ContainerFacts]
    expected_containers: list[ContainerRef]
    interfaces: list[Interface]
    routes: list[Route]
    listeners: list[Listener]
    probes: list[Probe]
    notes: list[str] = field(default_factory=list)
    pod_ip_probes: list[Probe] = field(default_factory=list)  # connects from the node netns to podIP:port
    node_routes: list[RouteLookup] = field(default_factory=list)  # one per pod IP
    uplink: NodeLink | None = None  # the device of the node's default route
    overlays: list[OverlayLink] = field(default_factory=list)
    cni: CniInfo | None = None  # None: an agent too old to say


@dataclass(frozen=True)
class CheckResult:
    id: str
    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str | None = None


@dataclass(frozen=True)
class Generator:
    tool: str
    version: str


@dataclass(frozen=True)
class ReportHeader:
    """What every versioned document starts with (so `apiVersion` leads the JSON)."""

    api_version: str
    kind: str
    generator: Generator


@dataclass(frozen=True, kw_only=True)
class PodNetReport(NodeFacts, ReportHeader):
    """The node's facts, carried whole, plus the checks' verdicts.

    A report *is* the facts (inherited, not copied field by field), so a fact added to
    `NodeFacts` reaches the JSON, the renderers and CI the day it is added. Field order,
    and so the JSON's key order: the header, the facts, then `checks` and `verdict`.
    """

    checks: list[CheckResult]
    verdict: Literal["pass", "fail"]


# ---- the node map (`kubectl podnet node map`): docs/nodemap.md ------------------------

NODE_MAP_KIND = "PodNetNodeMap"


@dataclass(frozen=True)
class HostLink(Link):
    """A link of the node's own netns, with what the map needs to place it."""

    master: str | None = None  # the bridge it is a port of
    link_ifindex: int | None = None  # a veth's peer, a macvlan's parent
    link_netnsid: int | None = None  # set when that peer lives in another netns
    routes: list[str] = field(default_factory=list)  # destinations the node routes out of it


@dataclass(frozen=True)
class HostView:
    """The node's own netns as the agent (hostNetwork) sees it."""

    netns_inode: int
    uplink: str | None  # the device of the default route
    gateway: str | None
    links: list[HostLink]


@dataclass(frozen=True)
class NodeMapRequest:
    """Ask the agent for the node's own view besides the pods (one exec for the whole map)."""

    pods: list[InspectRequest]


@dataclass(frozen=True)
class Wire:
    """A host link joined to the pod interface at its other end."""

    host_ifindex: int
    host_link: str
    pod_uid: str
    pod_interface: str
    kind: str  # "veth" (a pair) or "macvlan" (the pod's link sits on this parent)
    namespace: str | None = None
    name: str | None = None


@dataclass(frozen=True)
class MapError:
    """A pod on the node that could not be inspected, and why."""

    namespace: str | None
    name: str | None
    message: str


@dataclass(frozen=True, kw_only=True)
class PodNetNodeMap(ReportHeader):
    """A node's whole picture: its own links, every pod's report (whole), and the wires between."""

    node: str | None
    host: HostView
    wires: list[Wire]
    pods: list[PodNetReport]
    errors: list[MapError] = field(default_factory=list)

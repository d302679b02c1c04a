"""What a lab node looks like: pods, their containers, addressing. Pure values.

The lab rebuilds by hand what a kubelet + CNI build on a node, inside a throwaway
"node" netns so the machine's own network is never touched.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Literal

from kubectl_podnet.model import ContainerRef, DeclaredPort, InspectRequest

# none: the pod netns has only lo; calico, cilium, aws-vpc, azure: each CNI's own wiring (lab/plan.py)
Network = Literal["bridge", "ptp", "host", "none", "calico", "cilium", "aws-vpc", "azure"]
CgroupLayout = Literal["v2-systemd", "v1-cgroupfs"]
Qos = Literal["besteffort", "burstable", "guaranteed"]

NODE_IP = "10.89.0.2"
NODE_GATEWAY = "10.89.0.1"  # the node's default route points there: it makes eth0 the uplink
BRIDGE_V4 = ("10.244.0.1", 24)
BRIDGE_V6 = ("fd00:10:244::1", 64)
PTP_GATEWAY = "10.244.1.1"
SERVER_PORT = 8080
# Calico: pods of one IPAM block of this node, a /32 each, gatewayed by the 169.254.1.1 the host
# veth answers with proxy ARP; a remote node's block routed into vxlan.calico
LINK_LOCAL_GATEWAY = "169.254.1.1"  # Calico's, AWS VPC CNI's and Azure CNI's pod gateway
CALICO_BLOCK = "10.244.64.0/26"
CALICO_REMOTE_BLOCK = "10.244.65.0/26"
CALICO_VXLAN_MTU = 1450  # Calico's auto-detected MTU over a 1500 uplink with vxlan (50 bytes)
# Cilium: the node's pod CIDR, its router IP on cilium_host, a remote node's CIDR, its tunnel MTU
CILIUM_CIDR = "10.244.128.0/24"
CILIUM_ROUTER = "10.244.128.1"
CILIUM_REMOTE_CIDR = "10.244.129.0/24"
CILIUM_ROUTE_MTU = 1450  # pkg/mtu: the device MTU 1500 minus TunnelOverhead 50
CILIUM_EBPF_TABLE = 200  # the lab's stand-in for Cilium's eBPF delivery (plan.py says how)
AWS_MTU = 9001  # AWS_VPC_ENI_MTU's default: the ENI's jumbo frames
AZURE_HOST_MAC = "aa:aa:aa:aa:aa:aa"  # azure-vnet's defaultHostVethHwAddr
CALICO_HOST_MAC = "ee:ee:ee:ee:ee:ee"  # Calico's host veth MAC
# the host veth's name: each CNI's prefix, then hex of the pod (Linux names are at most 15 bytes)
VETH_PREFIX = {"calico": ("cali", 11), "cilium": ("lxc", 12), "aws-vpc": ("eni", 11), "azure": ("azv", 11)}


@dataclass(frozen=True)
class ContainerSpec:
    """A container process. `listen` entries: "0.0.0.0:8080", "[::1]:9090", "pod:8080" (the pod IP);
    "udp:0.0.0.0:5353" binds a UDP socket instead."""

    name: str
    listen: tuple[str, ...] = ()
    own_netns: bool = False  # a broken runtime: the container did not join the sandbox
    ports: tuple[int, ...] = ()  # TCP containerPorts the pod spec declares (the cluster will dial them)


@dataclass(frozen=True)
class PodSpec:
    name: str
    containers: tuple[ContainerSpec, ...]
    network: Network = "bridge"
    ipv6: bool = False
    pause: bool = True  # False: CRI-O drop_infra_ctr, the netns is only pinned
    extra_interface: Literal["veth", "macvlan"] | None = None
    cgroup: CgroupLayout = "v2-systemd"
    qos: Qos = "besteffort"


@dataclass(frozen=True)
class PodPlan:
    """A PodSpec placed on the node: names, ids and addresses fixed."""

    spec: PodSpec
    index: int
    uid: str
    sandbox_id: str
    container_ids: dict[str, str]
    netns: str | None  # pinned name under /var/run/netns; None for hostNetwork
    host_veth: str | None
    ipv4: str
    ipv6: str | None
    prefixlen: int = 24

    @property
    def pod_ips(self) -> list[str]:
        if self.spec.network == "none":
            return []  # nothing was assigned: the runtime's "none" network
        return [self.ipv4] + ([self.ipv6] if self.ipv6 else [])


@dataclass(frozen=True)
class LabPlan:
    prefix: str
    pods: list[PodPlan] = field(default_factory=list)
    node_index: int = 0  # the second node of a two-node lab is 1: its own node IP and pod CIDR

    @property
    def node_netns(self) -> str:
        return f"{self.prefix}-node"

    @property
    def node_ip(self) -> str:
        return node_ip(self.node_index)

    @property
    def bridge_v4(self) -> tuple[str, int]:
        """cni0's address: the node's pod CIDR's first address (flannel's 10.244.N.1/24 per node)."""
        return (f"10.244.{self.node_index}.1", 24) if self.node_index else BRIDGE_V4


def node_ip(index: int) -> str:
    return NODE_IP if index == 0 else f"10.89.0.{2 + index}"


def _hex_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _host_veth(network: Network, uid: str) -> str:
    prefix, digits = VETH_PREFIX.get(network, ("veth", 8))
    return prefix + _hex_id(uid, "veth")[:digits]


def host_mac(pod: PodPlan) -> str:
    """The host veth's MAC: Calico's and Azure's fixed one, else a locally administered one of the pod."""
    if pod.spec.network == "calico":
        return CALICO_HOST_MAC
    if pod.spec.network == "azure":
        return AZURE_HOST_MAC
    digits = _hex_id(pod.uid, "mac")[:10]
    return "02:" + ":".join(digits[i:i + 2] for i in range(0, 10, 2))


def plan_lab(prefix: str, pods: list[PodSpec], node_index: int = 0) -> LabPlan:
    placed = []
    for index, spec in enumerate(pods):
        uid = str(uuid.uuid4())
        host = spec.network == "host"
        if host:
            ipv4, ipv6, prefixlen = node_ip(node_index), None, 24
        elif spec.network == "ptp":
            ipv4, ipv6, prefixlen = f"10.244.1.{10 + index}", None, 24
        elif spec.network == "calico":
            ipv4, ipv6, prefixlen = f"10.244.64.{10 + index}", None, 32
        elif spec.network == "cilium":
            ipv4, ipv6, prefixlen = f"10.244.128.{10 + index}", None, 32
        elif spec.network == "aws-vpc":  # pods take addresses of the node's own VPC subnet
            ipv4, ipv6, prefixlen = f"10.89.0.{100 + index}", None, 32
        elif spec.network == "azure":  # pods take addresses of the node's own VNet subnet
            ipv4, ipv6, prefixlen = f"10.89.0.{150 + index}", None, 24
        else:
            ipv4, prefixlen = f"10.244.{node_index}.{10 + index}", BRIDGE_V4[1]
            ipv6 = f"fd00:10:244::{10 + index:x}" if spec.ipv6 else None
        placed.append(
            PodPlan(
                spec=spec,
                index=index,
                uid=uid,
                sandbox_id=_hex_id(uid, "sandbox"),
                container_ids={c.name: _hex_id(uid, c.name) for c in spec.containers},
                netns=None if host else f"{prefix}-{spec.name}",
                host_veth=None if host else _host_veth(spec.network, uid),
                ipv4=ipv4,
                ipv6=ipv6,
                prefixlen=prefixlen,
            )
        )
    return LabPlan(prefix=prefix, pods=placed, node_index=node_index)


def cgroup_path(prefix: str, pod: PodPlan, container_id: str) -> str:
    """The kubelet's cgroup path for a container, under a lab root so nothing collides."""
    qos = pod.spec.qos
    if pod.spec.cgroup == "v2-systemd":
        uid = pod.uid.replace("-", "_")
        if qos == "guaranteed":
            pod_slice = f"kubepods.slice/kubepods-pod{uid}.slice"
        else:
            pod_slice = f"kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{uid}.slice"
        return f"{prefix}.slice/{pod_slice}/cri-containerd-{container_id}.scope"
    qos_dir = "" if qos == "guaranteed" else f"{qos}/"
    return f"{prefix}/kubepods/{qos_dir}pod{pod.uid}/{container_id}"


def inspect_request(plan: LabPlan, pod: PodPlan, named: bool = True) -> InspectRequest:
    """What the client would ask the agent about this pod (names, ids and IPs as the API has them)."""
    return InspectRequest(
        pod_uid=pod.uid,
        containers=[ContainerRef(id=cid, name=name) for name, cid in pod.container_ids.items()] if named else [],
        pod_ips=pod.pod_ips,
        namespace="lab",
        name=pod.spec.name,
        node=plan.node_netns,
        declared_ports=[DeclaredPort(port, "tcp", c.name, "containerPort") for c in pod.spec.containers
                        for port in c.ports],
    )


def default_lab_pods() -> list[PodSpec]:
    """The experiment every CKA learner does by hand: one pod, two containers, one port."""
    return [
        PodSpec(
            name="web",
            containers=(
                ContainerSpec(name="web", listen=(f"0.0.0.0:{SERVER_PORT}",)),
                ContainerSpec(name="sidecar"),
            ),
        )
    ]

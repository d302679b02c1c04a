"""Two lab nodes joined by an underlay, with flannel's vxlan overlay between them: pod to pod
across nodes for real, so `connect` has two nodes' kernels to ask.

Each node is a LabNode of its own (its netns, cni0, one pod in kubelet-style cgroups), the
second one numbered 1 so it gets its own node IP (10.89.0.3) and pod CIDR (10.244.1.0/24).
Their `eth0`s are joined on an underlay bridge `br0` in a wire netns (10.89.0.1, both nodes'
default gateway): each node's `uplink0` veth end is renamed and moved there. Over that,
flannel's vxlan backend as flannel-io/flannel writes it (Documentation/backends.md,
pkg/backend/vxlan): `flannel.1` (VNI 1, UDP 8472, `local NODE_IP dev eth0`, nolearning, mtu
1450) with the node's `10.244.N.0/32`, the other node's pod CIDR routed `via 10.244.M.0 dev
flannel.1 onlink`, a permanent neighbour entry for that address with the other flannel.1's
MAC, and a permanent FDB entry sending that MAC to the other node's IP; forwarding on; pods
and their host veths at flannel's MTU 1450. The breaks are the commands a cluster's own
faults amount to, built apart from running them.
"""

from __future__ import annotations

import json
import shutil

from kubectl_podnet.connect_model import PodNetConnect
from kubectl_podnet.errors import UsageError
from kubectl_podnet.lab.lab_connect import connect_in_lab
from kubectl_podnet.lab.spec import ContainerSpec, PodSpec, inspect_request, node_ip
from kubectl_podnet.lab.world import LabNode, clean, run

Command = list[str]
FLANNEL_MTU = 1450
VXLAN_PORT = 8472
FLANNEL_CONFIG = ("10-flannel.conflist", json.dumps({
    "cniVersion": "0.4.0", "name": "cbr0",
    "plugins": [{"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
                {"type": "portmap", "capabilities": {"portMappings": True}}]}, indent=2) + "\n")
SERVER = ContainerSpec("web", listen=("0.0.0.0:8080",), ports=(8080,))


def flannel_mac(index: int) -> str:
    return f"02:f1:a0:00:00:{index + 1:02x}"


class OverlayLab:
    """Node `a` (index 0) with pod `a`, node `b` (index 1) with pod `b`, the wire between them."""

    def __init__(self, prefix: str) -> None:
        if shutil.which("bridge") is None:
            raise UsageError("the two-node lab needs iproute2's `bridge` command (apt-get install iproute2)")
        self.prefix = prefix
        self.nodes = [LabNode(f"{prefix}-a", [PodSpec("a", (SERVER,))], FLANNEL_CONFIG, node_index=0),
                      LabNode(f"{prefix}-b", [PodSpec("b", (SERVER,))], FLANNEL_CONFIG, node_index=1)]
        self.commands: list[Command] = []

    @property
    def wire(self) -> str:
        return f"{self.prefix}-a-wire"  # under node a's prefix: its clean removes it too

    def node_netns(self, index: int) -> str:
        return self.nodes[index].plan.node_netns

    def build(self) -> None:
        try:
            for node in self.nodes:
                node.build()
            self.run_commands(wire_commands(self))
        except BaseException:
            self.teardown()
            raise

    def run_commands(self, commands: list[Command]) -> None:
        for argv in commands:
            run(argv)
            self.commands.append(argv)

    def teardown(self) -> None:
        for node in reversed(self.nodes):
            node.teardown()
        clean_overlay(self.prefix)

    def connect(self, timeout: float = 3.0) -> PodNetConnect:
        a, b = (node.plan for node in self.nodes)
        return connect_in_lab(a.node_netns, inspect_request(a, a.pods[0]), b.node_netns, inspect_request(b, b.pods[0]),
                              a.node_ip, b.node_ip, timeout=timeout, real_port=8080)


def clean_overlay(prefix: str) -> list[str]:
    """Everything a two-node lab with this prefix left: both nodes' labs and the wire."""
    return clean(f"{prefix}-b") + clean(f"{prefix}-a")


def wire_commands(lab: OverlayLab) -> list[Command]:
    """The underlay between the two nodes and flannel's vxlan over it (see the module docstring). Pure."""
    wire = lab.wire
    commands: list[Command] = [
        ["ip", "netns", "add", wire],
        ["ip", "-n", wire, "link", "add", "br0", "type", "bridge"],
        ["ip", "-n", wire, "addr", "add", "10.89.0.1/24", "dev", "br0"],
        ["ip", "-n", wire, "link", "set", "br0", "up"],
    ]
    for index, node in enumerate(lab.nodes):
        ns, port = node.plan.node_netns, f"up{'ab'[index]}"
        commands += [
            ["ip", "-n", ns, "link", "set", "uplink0", "down"],
            ["ip", "-n", ns, "link", "set", "uplink0", "name", port],
            ["ip", "-n", ns, "link", "set", port, "netns", wire],
            ["ip", "-n", wire, "link", "set", port, "master", "br0", "up"],
        ]
    for index, node in enumerate(lab.nodes):
        ns, other = node.plan.node_netns, 1 - index
        commands += [
            ["ip", "-n", ns, "link", "add", "flannel.1", "address", flannel_mac(index), "type", "vxlan", "id", "1",
             "local", node_ip(index), "dev", "eth0", "dstport", str(VXLAN_PORT), "nolearning"],
            ["ip", "-n", ns, "link", "set", "flannel.1", "mtu", str(FLANNEL_MTU), "up"],
            ["ip", "-n", ns, "addr", "add", f"10.244.{index}.0/32", "dev", "flannel.1"],
            ["ip", "-n", ns, "route", "add", f"10.244.{other}.0/24", "via", f"10.244.{other}.0", "dev", "flannel.1",
             "onlink"],
            ["ip", "-n", ns, "neigh", "add", f"10.244.{other}.0", "lladdr", flannel_mac(other), "dev", "flannel.1",
             "nud", "permanent"],
            ["bridge", "-n", ns, "fdb", "append", flannel_mac(other), "dev", "flannel.1", "dst", node_ip(other),
             "self", "permanent"],
            ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
        ]
        for pod in node.plan.pods:  # flannel's subnet.env MTU on both ends of each pod's veth
            assert pod.netns is not None and pod.host_veth is not None
            commands += [["ip", "-n", pod.netns, "link", "set", "eth0", "mtu", str(FLANNEL_MTU)],
                         ["ip", "-n", ns, "link", "set", pod.host_veth, "mtu", str(FLANNEL_MTU)]]
    return commands


# ---- the breaks, as clusters break --------------------------------------------------------

def _iptables(ns: str, *rule: str) -> Command:
    return ["ip", "netns", "exec", ns, "iptables", *rule]


def pod_nat(lab: OverlayLab) -> list[Command]:
    """Node a masquerades its pods' traffic to the other node's pods (a wrong --cluster-cidr, ipMasq)."""
    return [_iptables(lab.node_netns(0), "-t", "nat", "-A", "POSTROUTING", "-s", "10.244.0.0/24", "-d",
                      "10.244.1.0/24", "-j", "MASQUERADE")]


def overlay_blocked(lab: OverlayLab) -> list[Command]:
    """Node b drops the vxlan port (a firewall between nodes that does not know the overlay)."""
    return [_iptables(lab.node_netns(1), "-A", "INPUT", "-p", "udp", "--dport", str(VXLAN_PORT), "-j", "DROP")]


def overlay_mtu(lab: OverlayLab) -> list[Command]:
    """Node b's underlay MTU (1400) is too small for the pods' 1450 plus vxlan's 50 bytes."""
    return [["ip", "-n", lab.node_netns(1), "link", "set", "eth0", "mtu", "1400"]]


def no_forward(lab: OverlayLab) -> list[Command]:
    """Node a stops forwarding (net.ipv4.ip_forward=0: a reboot without the sysctl persisted)."""
    return [["ip", "netns", "exec", lab.node_netns(0), "sysctl", "-qw", "net.ipv4.ip_forward=0"]]

"""The lab's networking modes: one registry, each mode named once.

Each mode is the learner's picture of one way a pod gets (or fails to get) its network:
the pods to build, the `ip` commands that break it on purpose (if any), the connects
that prove what works, and, for the broken ones, which check catches it and the fix.
`lab --mode list`, the CLI's choices, the tests and the docs read `MODES`; none keeps
its own list.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from kubectl_podnet.errors import UsageError
from kubectl_podnet.lab import overlay
from kubectl_podnet.lab.overlay import OverlayLab
from kubectl_podnet.lab.spec import (
    BRIDGE_V4,
    CILIUM_ROUTER,
    NODE_IP,
    SERVER_PORT,
    ContainerSpec,
    LabPlan,
    PodSpec,
    default_lab_pods,
)

Command = list[str]

SERVER = ContainerSpec("web", listen=(f"0.0.0.0:{SERVER_PORT}",))
SIDECAR = ContainerSpec("sidecar")
PREFIX = "podnet-lab"


@dataclass(frozen=True)
class Connect:
    """A real TCP connect that proves a path: from a pod's netns (or the node's) to an address."""

    source: str  # a pod name of the mode, or "node"
    target: str  # a pod name of the mode (its IP), or an address
    port: int
    expect: str  # "ok", or the errno a broken path gives ("ENETUNREACH", "ECONNREFUSED")
    meaning: str  # what the outcome shows, for the learner


@dataclass(frozen=True)
class LabMode:
    name: str
    summary: str  # the one line of `lab --mode list`
    pods: Callable[[], list[PodSpec]]
    breaks: Callable[[LabPlan], list[Command]] = lambda plan: []  # run after the pods start
    connects: tuple[Connect, ...] = ()
    caught_by: str | None = None  # broken on purpose: the check id that catches it
    fix: Callable[[LabPlan], str] | None = None
    try_commands: Callable[[LabPlan], list[str]] = field(default=lambda plan: [])
    cni_config: tuple[str, str] | None = None  # the node's CNI config file (name, JSON), as the CNI installs it
    # two nodes over flannel's vxlan (lab/overlay.py), proven by `connect` instead of a node map;
    # `caught_by` is then the hop that fails, and `overlay_breaks` the commands that break it
    two_nodes: bool = False
    overlay_breaks: Callable[[OverlayLab], list[Command]] = lambda lab: []

    @property
    def prefix(self) -> str:
        """Names of this mode's netns and cgroups: modes kept at once never clash (dashes become
        underscores, so `calico`'s `podnet-lab-calico-*` never covers `podnet-lab-calico_noroute-*`)."""
        return f"{PREFIX}-{self.name.replace('-', '_')}"

    @property
    def broken(self) -> bool:
        return self.caught_by is not None


def _one(name: str = "web", *containers: ContainerSpec, **spec: object) -> Callable[[], list[PodSpec]]:
    return lambda: [PodSpec(name, containers or (SERVER, SIDECAR), **spec)]  # type: ignore[arg-type]


def _pod_netns(plan: LabPlan, name: str = "web") -> str:
    pod = next(p for p in plan.pods if p.spec.name == name)
    assert pod.netns is not None
    return pod.netns


def _conflist(file: str, name: str, *plugins: dict[str, object]) -> tuple[str, str]:
    return file, json.dumps({"cniVersion": "0.4.0", "name": name, "plugins": list(plugins)}, indent=2) + "\n"


# Each CNI's config as its installer writes it to /etc/cni/net.d (trimmed to the keys that say
# what runs): the file name orders it first, the chain's first plugin is the CNI itself.
CALICO_CONFIG = _conflist("10-calico.conflist", "k8s-pod-network",
                          {"type": "calico", "datastore_type": "kubernetes", "mtu": 1450,
                           "ipam": {"type": "calico-ipam"}},
                          {"type": "bandwidth", "capabilities": {"bandwidth": True}},
                          {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}})
CILIUM_CONFIG = _conflist("05-cilium.conflist", "cilium", {"type": "cilium-cni", "enable-debug": False})
AWS_CONFIG = _conflist("10-aws.conflist", "aws-cni",
                       {"name": "aws-cni", "type": "aws-cni", "vethPrefix": "eni", "mtu": "9001"},
                       {"name": "egress-cni", "type": "egress-cni"},
                       {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}})
AZURE_CONFIG = _conflist("10-azure.conflist", "azure",
                         {"type": "azure-vnet", "mode": "transparent", "ipam": {"type": "azure-vnet-ipam"}},
                         {"type": "portmap", "snat": True, "capabilities": {"portMappings": True}})
KINDNET_CONFIG = _conflist("10-kindnet.conflist", "kindnet",
                           {"type": "ptp", "ipMasq": False,
                            "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.1.0/24"}]],
                                     "routes": [{"dst": "0.0.0.0/0"}]}, "mtu": 1500},
                           {"type": "portmap", "capabilities": {"portMappings": True}})


def _routes(plan: LabPlan) -> list[str]:
    return [f"ip -n {plan.node_netns} route", f"ip netns exec {_pod_netns(plan)} ip route",
            f"ip -n {plan.node_netns} route get {plan.pods[0].ipv4}"]


def _look(plan: LabPlan) -> list[str]:
    return [f"ip netns exec {_pod_netns(plan)} ip -d link", f"ip -n {plan.node_netns} link show master cni0"]


MODES: tuple[LabMode, ...] = (
    LabMode("bridge", "one pod (server + sidecar) on the cni0 bridge: the seed's picture, every check passes",
            lambda: default_lab_pods(), try_commands=_look),
    LabMode("routed", "ptp veth, no bridge: the node reaches the pod by a /32 host route (kindnet, calico)",
            _one(network="ptp"),
            try_commands=lambda plan: [f"ip -n {plan.node_netns} route", f"ip netns exec {_pod_netns(plan)} ip route"]),
    LabMode("host", "hostNetwork: pause and containers in the node's own netns, no veth, the node's IP",
            _one("web", ContainerSpec("web", listen=(f"0.0.0.0:{SERVER_PORT}",)), network="host"),
            try_commands=lambda plan: [f"ip netns exec {plan.node_netns} ss -ltn"]),
    LabMode("none", "the 'none' network: the pod netns has only lo (no IP, no veth): see what each check says",
            _one(network="none"),
            try_commands=lambda plan: [f"ip netns exec {_pod_netns(plan)} ip addr"]),
    LabMode("macvlan", "a second interface (macvlan on the node's uplink eth0) beside the pod's eth0",
            _one(extra_interface="macvlan"),
            try_commands=lambda plan: [f"ip netns exec {_pod_netns(plan)} ip -d link show net1"]),
    LabMode("two-pods", "two pods on one bridge (one segment) reach each other by pod IP: proven by a connect",
            lambda: [PodSpec("a", (SERVER,)), PodSpec("b", (SERVER,))],
            connects=(Connect("a", "b", SERVER_PORT, "ok", "pod a reaches pod b's IP across cni0"),
                      Connect("b", "a", SERVER_PORT, "ok", "and back")),
            try_commands=lambda plan: [f"ip -n {plan.node_netns} link show master cni0",
                                       f"ip netns exec {_pod_netns(plan, 'a')} ip neigh"]),
    LabMode("split-netns", "broken: a container started in a netns of its own instead of the pause's",
            _one("web", SERVER, ContainerSpec("stray", own_netns=True)),
            caught_by="shared-netns",
            fix=lambda plan: "start every container in the sandbox's netns (the runtime does it from the CRI "
            "sandbox; by hand: nsenter -t PAUSE_PID -n CMD); a running process cannot change its netns"),
    LabMode("podip-only", "broken: the server binds only the pod IP, so localhost:8080 fails inside the pod",
            _one("web", ContainerSpec("web", listen=(f"pod:{SERVER_PORT}",)), SIDECAR),
            caught_by="localhost",
            fix=lambda plan: f"bind 0.0.0.0:{SERVER_PORT} (or [::]:{SERVER_PORT}) so 127.0.0.1 works too"),
    LabMode("localhost-only", "broken: the server binds only 127.0.0.1, its declared port fails at the pod IP",
            _one("web", ContainerSpec("web", listen=(f"127.0.0.1:{SERVER_PORT}",), ports=(SERVER_PORT,)), SIDECAR),
            connects=(Connect("node", "web", SERVER_PORT, "ECONNREFUSED",
                              "the node cannot reach the server at the pod IP"),),
            caught_by="pod-ip",
            fix=lambda plan: f"bind 0.0.0.0:{SERVER_PORT} so the pod IP answers as well as 127.0.0.1"),
    LabMode("kindnet", "kind's default CNI: the ptp plugin's routed veth and kindnet's config (10-kindnet.conflist)",
            _one(network="ptp"), cni_config=KINDNET_CONFIG, try_commands=_routes),
    LabMode("calico", "Calico (vxlan): a /32 pod via 169.254.1.1, a cali veth with proxy ARP, the IPAM block's "
            "blackhole", _one(network="calico"), cni_config=CALICO_CONFIG, try_commands=_routes),
    LabMode("cilium", "Cilium (vxlan, legacy host routing): lxc veth with no route, the node reaches pods via "
            "cilium_host", _one(network="cilium"), cni_config=CILIUM_CONFIG,
            connects=(Connect("node", "web", SERVER_PORT, "ok", "the node reaches the pod (the lab's kernel "
                              "stand-in for Cilium's eBPF delivery)"),),
            try_commands=lambda plan: _routes(plan) + [f"ip -n {plan.node_netns} rule"]),
    LabMode("aws-vpc", "AWS VPC CNI: a VPC address /32 via 169.254.1.1, eni veth, rule 512 to the pod, MTU 9001",
            _one(network="aws-vpc"), cni_config=AWS_CONFIG,
            try_commands=lambda plan: _routes(plan) + [f"ip -n {plan.node_netns} rule"]),
    LabMode("azure", "Azure CNI (transparent): a VNet address via 169.254.1.1, azv veth, a host /32",
            _one(network="azure"), cni_config=AZURE_CONFIG, try_commands=_routes),
    LabMode("calico-noroute", "broken: Calico lost the pod's /32, so the node's lookup falls into the block's "
            "blackhole", _one("web", ContainerSpec("web", listen=(f"0.0.0.0:{SERVER_PORT}",), ports=(SERVER_PORT,)),
                              SIDECAR, network="calico"),
            cni_config=CALICO_CONFIG,
            breaks=lambda plan: [["ip", "-n", plan.node_netns, "route", "del", f"{plan.pods[0].ipv4}/32"]],
            connects=(Connect("node", "web", SERVER_PORT, "EINVAL",
                              "the node cannot reach the pod: its lookup hits the blackhole"),),
            caught_by="routes",
            fix=lambda plan: "restart calico-node on the node (Felix writes each local workload's /32 again) or "
            f"recreate the pod; by hand: ip -n {plan.node_netns} route add {plan.pods[0].ipv4}/32 dev "
            f"{plan.pods[0].host_veth} scope link"),
    LabMode("cilium-routemtu", "broken: a Cilium pod's default route lost its tunnel MTU, so it sends 1500 into "
            "cilium_vxlan", _one(network="cilium"), cni_config=CILIUM_CONFIG,
            breaks=lambda plan: [["ip", "-n", _pod_netns(plan), "route", "replace", "default", "via", CILIUM_ROUTER,
                                  "dev", "eth0"]],
            caught_by="mtu",
            fix=lambda plan: "let Cilium write the pod's routes again (restart the Cilium agent, recreate the pod); "
            f"by hand: ip -n {_pod_netns(plan)} route replace default via {CILIUM_ROUTER} dev eth0 mtu 1450"),
    LabMode("two-nodes", "two nodes over flannel's vxlan, a pod on each: `connect` proves pod to pod across "
            "nodes with no NAT", lambda: [], two_nodes=True),
    LabMode("pod-nat", "broken: the first node masquerades pod-to-pod traffic, so B sees the node, not A",
            lambda: [], two_nodes=True, overlay_breaks=overlay.pod_nat, caught_by="connection",
            fix=lambda plan: "exclude the cluster CIDR from MASQUERADE (kube-proxy --cluster-cidr, the CNI's ipMasq): "
            "iptables -t nat -D POSTROUTING -s 10.244.0.0/24 -d 10.244.1.0/24 -j MASQUERADE on the first node"),
    LabMode("overlay-blocked", "broken: the second node drops vxlan's UDP 8472, so nothing crosses the overlay",
            lambda: [], two_nodes=True, overlay_breaks=overlay.overlay_blocked, caught_by="overlay",
            fix=lambda plan: "allow UDP 8472 between the nodes: iptables -D INPUT -p udp --dport 8472 -j DROP on the "
            "second node (in a cloud: the security group)"),
    LabMode("overlay-mtu", "broken: the second node's underlay MTU 1400 cannot carry the pods' 1450 plus vxlan's 50",
            lambda: [], two_nodes=True, overlay_breaks=overlay.overlay_mtu, caught_by="mtu",
            fix=lambda plan: "raise the underlay MTU back to 1500, or give the pods 1350 (the CNI's MTU) and "
            "recreate them"),
    LabMode("no-forward", "broken: the first node stops forwarding (net.ipv4.ip_forward=0): its pods reach no "
            "other node", lambda: [], two_nodes=True, overlay_breaks=overlay.no_forward, caught_by="a-forward",
            fix=lambda plan: "sysctl -w net.ipv4.ip_forward=1 on the node, and persist it in /etc/sysctl.d"),
    LabMode("no-route", "broken: the pod's default route deleted, so it reaches nothing off its subnet",
            _one(),
            breaks=lambda plan: [["ip", "-n", _pod_netns(plan), "route", "del", "default"]],
            connects=(Connect("web", NODE_IP, 1, "ENETUNREACH",
                              "the pod has no route to the node (with it: ECONNREFUSED, the node answered)"),),
            caught_by="routes",
            fix=lambda plan: f"ip -n {_pod_netns(plan)} route add default via {BRIDGE_V4[0]}"),
)


def find_mode(name: str) -> LabMode:
    for mode in MODES:
        if mode.name == name:
            return mode
    raise UsageError(f"no lab mode {name!r}: one of {', '.join(m.name for m in MODES)} (or `--mode list`)")


def mode_list() -> str:
    width = max(len(mode.name) for mode in MODES)
    return "".join(f"{mode.name.ljust(width)}  {mode.summary}\n" for mode in MODES)

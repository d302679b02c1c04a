"""The iproute2 commands that wire a lab node, built apart from running them.

These are the commands a learner types when doing the experiment by hand, so
`kubectl podnet lab` can print them; `world.py` runs them.
"""

from __future__ import annotations

from kubectl_podnet.lab.spec import (
    AWS_MTU,
    BRIDGE_V6,
    CALICO_BLOCK,
    CALICO_REMOTE_BLOCK,
    CALICO_VXLAN_MTU,
    CILIUM_CIDR,
    CILIUM_EBPF_TABLE,
    CILIUM_REMOTE_CIDR,
    CILIUM_ROUTE_MTU,
    CILIUM_ROUTER,
    LINK_LOCAL_GATEWAY,
    NODE_GATEWAY,
    PTP_GATEWAY,
    LabPlan,
    PodPlan,
    host_mac,
)

Command = list[str]


def _networks(plan: LabPlan) -> set[str]:
    return {pod.spec.network for pod in plan.pods}


def _sysctl(netns: str, *settings: str) -> Command:
    return ["ip", "netns", "exec", netns, "sysctl", "-qw", *settings]


def cni_node_commands(plan: LabPlan) -> list[Command]:
    """What each CNI sets up on a node once, before its first pod: its own devices and routes."""
    node = plan.node_netns
    networks = _networks(plan)
    commands: list[Command] = []
    if "calico" in networks:
        # Felix: a blackhole for the IPAM block this node owns (a pod's /32 overrides it), and
        # vxlan.calico with a route per remote block via that node's VTEP address, onlink
        remote_vtep = CALICO_REMOTE_BLOCK.split("/")[0]
        commands += [
            ["ip", "-n", node, "route", "add", "blackhole", CALICO_BLOCK, "proto", "80"],
            ["ip", "-n", node, "link", "add", "vxlan.calico", "type", "vxlan", "id", "4096", "dstport", "4789",
             "local", plan.node_ip, "dev", "eth0"],
            ["ip", "-n", node, "link", "set", "vxlan.calico", "mtu", str(CALICO_VXLAN_MTU), "up"],
            ["ip", "-n", node, "route", "add", CALICO_REMOTE_BLOCK, "via", remote_vtep, "dev", "vxlan.calico",
             "onlink"],
        ]
    if "cilium" in networks:
        # cilium_host/cilium_net: a veth pair inside the node netns, the router IP on cilium_host; the
        # node's pod CIDR and each remote CIDR via the router IP (remote ones capped at the tunnel
        # MTU); cilium_vxlan in collect-metadata mode on Cilium's port 8472, with no route into it
        commands += [
            ["ip", "-n", node, "link", "add", "cilium_host", "type", "veth", "peer", "name", "cilium_net"],
            ["ip", "-n", node, "addr", "add", f"{CILIUM_ROUTER}/32", "dev", "cilium_host"],
            ["ip", "-n", node, "link", "set", "cilium_net", "up"],
            ["ip", "-n", node, "link", "set", "cilium_host", "up"],
            ["ip", "-n", node, "route", "add", CILIUM_ROUTER, "dev", "cilium_host", "scope", "link"],
            ["ip", "-n", node, "route", "add", CILIUM_CIDR, "via", CILIUM_ROUTER, "dev", "cilium_host", "src",
             CILIUM_ROUTER],
            ["ip", "-n", node, "route", "add", CILIUM_REMOTE_CIDR, "via", CILIUM_ROUTER, "dev", "cilium_host",
             "src", CILIUM_ROUTER, "mtu", str(CILIUM_ROUTE_MTU)],
            ["ip", "-n", node, "link", "add", "cilium_vxlan", "type", "vxlan", "external", "dstport", "8472"],
            ["ip", "-n", node, "link", "set", "cilium_vxlan", "up"],
            # The stand-in for Cilium's eBPF delivery, which this kernel cannot run without Cilium:
            # TCP to the pod CIDR (the agent's probes, the lab's connects) is looked up in a table of
            # its own with a route per pod. `ip route get POD_IP`, the lookup `routes` reads, asks
            # for no protocol and so sees only the main table: exactly what Cilium leaves on a node.
            ["ip", "-n", node, "rule", "add", "to", CILIUM_CIDR, "ipproto", "tcp", "lookup", str(CILIUM_EBPF_TABLE),
             "pref", "100"],
            _sysctl(node, "net.ipv4.conf.all.rp_filter=0"),
        ]
    if "aws-vpc" in networks:  # the primary ENI carries jumbo frames
        commands += [["ip", "-n", node, "link", "set", link, "mtu", str(AWS_MTU)] for link in ("eth0", "uplink0")]
    return commands


def node_commands(plan: LabPlan) -> list[Command]:
    node = plan.node_netns
    bridge_v4 = f"{plan.bridge_v4[0]}/{plan.bridge_v4[1]}"
    bridge_v6 = f"{BRIDGE_V6[0]}/{BRIDGE_V6[1]}"
    return [
        ["ip", "netns", "add", node],
        ["ip", "-n", node, "link", "set", "lo", "up"],
        # the node's own uplink, so a hostNetwork pod has a node address to share
        ["ip", "-n", node, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink0"],
        ["ip", "-n", node, "addr", "add", f"{plan.node_ip}/24", "dev", "eth0"],
        ["ip", "-n", node, "link", "set", "eth0", "up"],
        ["ip", "-n", node, "link", "set", "uplink0", "up"],
        ["ip", "-n", node, "route", "add", "default", "via", NODE_GATEWAY, "dev", "eth0"],
        ["ip", "-n", node, "link", "add", "cni0", "type", "bridge"],
        ["ip", "-n", node, "addr", "add", bridge_v4, "dev", "cni0"],
        ["ip", "-n", node, "-6", "addr", "add", bridge_v6, "dev", "cni0", "nodad"],
        ["ip", "-n", node, "link", "set", "cni0", "up"],
    ] + cni_node_commands(plan)


def pod_commands(plan: LabPlan, pod: PodPlan) -> list[Command]:
    if pod.netns is None:
        return []  # hostNetwork: nothing to wire, the pod uses the node's netns
    node, ns, veth = plan.node_netns, pod.netns, pod.host_veth
    assert veth is not None
    commands: list[Command] = [
        ["ip", "netns", "add", ns],
        ["ip", "-n", ns, "link", "set", "lo", "up"],
    ]
    if pod.spec.network == "none":
        return commands  # the runtime's "none" network: lo and nothing else
    if pod.spec.network in _CNI_WIRING:
        return commands + _CNI_WIRING[pod.spec.network](node, ns, veth, pod) + _extra_interface(node, ns, veth, pod)
    commands += [
        ["ip", "-n", node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns],
        ["ip", "-n", ns, "addr", "add", f"{pod.ipv4}/{pod.prefixlen}", "dev", "eth0"],
    ]
    if pod.ipv6:
        commands.append(["ip", "-n", ns, "-6", "addr", "add", f"{pod.ipv6}/64", "dev", "eth0", "nodad"])
    commands.append(["ip", "-n", ns, "link", "set", "eth0", "up"])
    if pod.spec.network == "bridge":
        commands += [
            ["ip", "-n", node, "link", "set", veth, "master", "cni0", "up"],
            ["ip", "-n", ns, "route", "add", "default", "via", plan.bridge_v4[0]],
        ]
        if pod.ipv6:  # as the bridge plugin with isGateway does for each family
            commands.append(["ip", "-n", ns, "-6", "route", "add", "default", "via", BRIDGE_V6[0]])
    else:  # ptp, like kind's kindnet: no bridge, a /32 host route per pod
        commands += [
            ["ip", "-n", node, "addr", "add", f"{PTP_GATEWAY}/32", "dev", veth],
            ["ip", "-n", node, "link", "set", veth, "up"],
            ["ip", "-n", node, "route", "add", f"{pod.ipv4}/32", "dev", veth, "scope", "host"],
            ["ip", "-n", ns, "route", "del", f"10.244.1.0/{pod.prefixlen}", "dev", "eth0"],
            ["ip", "-n", ns, "route", "add", PTP_GATEWAY, "dev", "eth0", "scope", "link"],
            ["ip", "-n", ns, "route", "add", "10.244.1.0/24", "via", PTP_GATEWAY, "dev", "eth0"],
            ["ip", "-n", ns, "route", "add", "default", "via", PTP_GATEWAY, "dev", "eth0"],
        ]
    return commands + _extra_interface(node, ns, veth, pod)


def _extra_interface(node: str, ns: str, veth: str, pod: PodPlan) -> list[Command]:
    commands: list[Command] = []
    if pod.spec.extra_interface == "veth":  # a second network, as Multus adds one
        commands += [
            ["ip", "-n", node, "link", "add", f"m{veth[4:]}", "type", "veth", "peer", "name", "net1", "netns", ns],
            ["ip", "-n", ns, "link", "set", "net1", "up"],
        ]
    elif pod.spec.extra_interface == "macvlan":
        commands += [
            ["ip", "-n", node, "link", "add", "link", "eth0", "name", f"m{veth[4:]}", "type", "macvlan",
             "mode", "bridge"],
            ["ip", "-n", node, "link", "set", f"m{veth[4:]}", "netns", ns, "name", "net1"],
            ["ip", "-n", ns, "link", "set", "net1", "up"],
        ]
    return commands


def _veth(node: str, ns: str, veth: str, pod: PodPlan, mtu: int = 1500) -> list[Command]:
    """The pod's veth pair, its host end named and addressed (MAC) as the CNI does, no host IP."""
    return [
        ["ip", "-n", node, "link", "add", veth, "address", host_mac(pod), "mtu", str(mtu), "type", "veth", "peer",
         "name", "eth0", "mtu", str(mtu), "netns", ns],
        ["ip", "-n", ns, "addr", "add", f"{pod.ipv4}/{pod.prefixlen}", "dev", "eth0"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
        ["ip", "-n", node, "link", "set", veth, "up"],
    ]


def _link_local_gateway(ns: str, neighbour: str | None = None) -> list[Command]:
    """The pod side Calico, AWS VPC CNI and Azure CNI share: everything via 169.254.1.1 on eth0;
    AWS and Azure pin its neighbour entry to the host veth's MAC (Calico answers by proxy ARP)."""
    commands = [["ip", "-n", ns, "route", "add", LINK_LOCAL_GATEWAY, "dev", "eth0", "scope", "link"],
                ["ip", "-n", ns, "route", "add", "default", "via", LINK_LOCAL_GATEWAY, "dev", "eth0"]]
    if neighbour:
        commands.append(["ip", "-n", ns, "neigh", "add", LINK_LOCAL_GATEWAY, "lladdr", neighbour, "dev", "eth0",
                         "nud", "permanent"])
    return commands


def _calico(node: str, ns: str, veth: str, pod: PodPlan) -> list[Command]:
    # the CNI plugin's DoNetworking: a /32 on eth0, default via 169.254.1.1, the host veth with
    # proxy ARP and mac ee:ee:ee:ee:ee:ee, the MTU of the encapsulation, a /32 route to the pod
    return _veth(node, ns, veth, pod, CALICO_VXLAN_MTU) + _link_local_gateway(ns) + [
        _sysctl(node, f"net.ipv4.conf.{veth}.proxy_arp=1", f"net.ipv4.neigh.{veth}.proxy_delay=0",
                f"net.ipv4.conf.{veth}.forwarding=1"),
        ["ip", "-n", node, "route", "add", f"{pod.ipv4}/32", "dev", veth, "scope", "link"],
    ]


def _cilium(node: str, ns: str, veth: str, pod: PodPlan) -> list[Command]:
    # cilium-cni: a /32 on eth0, the router IP on-link and the default via it capped at the tunnel
    # MTU; the host end lxc… has no address and no route (per-endpoint routes are off by default)
    return _veth(node, ns, veth, pod) + [
        ["ip", "-n", ns, "route", "add", CILIUM_ROUTER, "dev", "eth0", "scope", "link"],
        ["ip", "-n", ns, "route", "add", "default", "via", CILIUM_ROUTER, "dev", "eth0", "mtu", str(CILIUM_ROUTE_MTU)],
        _sysctl(node, f"net.ipv4.conf.{veth}.rp_filter=0"),
        # the eBPF stand-in's route (see cni_node_commands), in its own table
        ["ip", "-n", node, "route", "add", f"{pod.ipv4}/32", "dev", veth, "scope", "link", "table",
         str(CILIUM_EBPF_TABLE)],
    ]


def _aws_vpc(node: str, ns: str, veth: str, pod: PodPlan) -> list[Command]:
    # the routed-eni plugin: a VPC address /32, default via 169.254.1.1 with a permanent neighbour
    # entry for the host veth, the ENI's MTU; the host's /32 and its rule `to POD_IP lookup main`
    return _veth(node, ns, veth, pod, AWS_MTU) + _link_local_gateway(ns, host_mac(pod)) + [
        ["ip", "-n", node, "route", "add", f"{pod.ipv4}/32", "dev", veth, "scope", "link"],
        ["ip", "-n", node, "rule", "add", "to", f"{pod.ipv4}/32", "lookup", "main", "pref", "512"],
    ]


def _azure(node: str, ns: str, veth: str, pod: PodPlan) -> list[Command]:
    # transparent mode: the VNet address, every packet via the virtual gateway 169.254.1.1 pinned
    # to the host veth's aa:aa:aa:aa:aa:aa (the subnet's own route goes too), the host's /32
    return _veth(node, ns, veth, pod) + [
        ["ip", "-n", ns, "route", "del", "10.89.0.0/24", "dev", "eth0"],
    ] + _link_local_gateway(ns, host_mac(pod)) + [
        ["ip", "-n", node, "route", "add", f"{pod.ipv4}/32", "dev", veth, "scope", "link"],
    ]


_CNI_WIRING = {"calico": _calico, "cilium": _cilium, "aws-vpc": _aws_vpc, "azure": _azure}


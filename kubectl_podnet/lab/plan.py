"""The iproute2 commands that wire a lab node, built apart from running them.

These are the commands a learner types when doing the experiment by hand, so
`kubectl podnet lab` can print them; `world.py` runs them.
"""

from __future__ import annotations

from kubectl_podnet.lab.spec import BRIDGE_V4, BRIDGE_V6, NODE_GATEWAY, NODE_IP, PTP_GATEWAY, LabPlan, PodPlan

Command = list[str]


def node_commands(plan: LabPlan) -> list[Command]:
    node = plan.node_netns
    bridge_v4 = f"{BRIDGE_V4[0]}/{BRIDGE_V4[1]}"
    bridge_v6 = f"{BRIDGE_V6[0]}/{BRIDGE_V6[1]}"
    return [
        ["ip", "netns", "add", node],
        ["ip", "-n", node, "link", "set", "lo", "up"],
        # the node's own uplink, so a hostNetwork pod has a node address to share
        ["ip", "-n", node, "link", "add", "eth0", "type", "veth", "peer", "name", "uplink0"],
        ["ip", "-n", node, "addr", "add", f"{NODE_IP}/24", "dev", "eth0"],
        ["ip", "-n", node, "link", "set", "eth0", "up"],
        ["ip", "-n", node, "link", "set", "uplink0", "up"],
        ["ip", "-n", node, "route", "add", "default", "via", NODE_GATEWAY, "dev", "eth0"],
        ["ip", "-n", node, "link", "add", "cni0", "type", "bridge"],
        ["ip", "-n", node, "addr", "add", bridge_v4, "dev", "cni0"],
        ["ip", "-n", node, "-6", "addr", "add", bridge_v6, "dev", "cni0", "nodad"],
        ["ip", "-n", node, "link", "set", "cni0", "up"],
    ]


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
            ["ip", "-n", ns, "route", "add", "default", "via", BRIDGE_V4[0]],
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


def all_commands(plan: LabPlan) -> list[Command]:
    commands = node_commands(plan)
    for pod in plan.pods:
        commands += pod_commands(plan, pod)
    return commands

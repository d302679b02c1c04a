"""A node map built from fixed values: a bridged pod, a routed one, a hostNetwork one, a pod
with a macvlan, and a 'none' pod that fails, on a node with an uplink. For exact-string tests."""

from __future__ import annotations

import dataclasses

from kubectl_podnet.model import (
    Address,
    HostLink,
    HostView,
    Interface,
    MapError,
    Peer,
    PodInfo,
    PodNetNodeMap,
    Sandbox,
)
from kubectl_podnet.checks.nodemap import build_node_map
from kubectl_podnet.checks.report import build_report
from tests.factories import LO, NODE_NETNS, container, eth0, healthy

UPLINK = HostLink(ifindex=2, name="ens3", kind="device", mtu=1500, state="up", mac="52:54:00:12:34:56",
                  addresses=[Address("192.168.1.20", 24, 4, "global"), Address("fe80::1", 64, 6, "link")],
                  routes=["192.168.1.0/24"])
CNI0 = HostLink(ifindex=4, name="cni0", kind="bridge", mtu=1500, state="up", mac="aa:00:00:00:00:04",
                addresses=[Address("10.244.1.1", 24, 4, "global")], routes=["10.244.1.0/24"])


def host_veth(ifindex: int, name: str, master: str | None = None, routes: list[str] | None = None) -> HostLink:
    return HostLink(ifindex=ifindex, name=name, kind="veth", mtu=1500, state="up", mac=None, master=master,
                    link_ifindex=2, link_netnsid=ifindex, routes=routes or [])


def uid(n: int) -> str:
    return f"0a1b2c3d-0000-4000-8000-{n:012d}"


def sample_map() -> PodNetNodeMap:
    bridged = build_report(healthy())  # default/web on veth3a1f09c2 (ifindex 7), cni0
    routed_eth0 = dataclasses.replace(
        eth0(Peer(ifindex=8, name="veth77aa11bb", kind="veth", confirmed=True, routes=["10.244.1.6/32"])),
        addresses=[Address("10.244.1.6", 24, 4, "global")], link_netnsid=0)
    routed = build_report(healthy(
        pod=PodInfo(uid=uid(2), namespace="default", name="api", node="kind-worker", host_network=False,
                    pod_ips=["10.244.1.6"]),
        sandbox=Sandbox("pause-process", 4026532300, "/proc/5000/ns/net", pid=5000),
        containers=[container("api", "d" * 64, 5010, 4026532300)],
        interfaces=[LO, routed_eth0], listeners=[], probes=[]))
    macvlan = Interface(ifindex=3, name="net1", kind="macvlan", mtu=1500, state="up", mac=None,
                        addresses=[Address("192.168.1.50", 24, 4, "global")], link_ifindex=2, link_netnsid=0)
    second = Interface(ifindex=4, name="net2", kind="veth", mtu=1500, state="up", mac=None, link_ifindex=11,
                       link_netnsid=0, peer=Peer(ifindex=11, name="mveth99cc", kind="veth", confirmed=True))
    multi_eth0 = dataclasses.replace(
        eth0(Peer(ifindex=9, name="veth99cc22dd", kind="veth", confirmed=True, master="cni0", master_kind="bridge")),
        addresses=[Address("10.244.1.7", 24, 4, "global")])
    multi = build_report(healthy(
        pod=PodInfo(uid=uid(3), namespace="shop", name="multi", node="kind-worker", host_network=False,
                    pod_ips=["10.244.1.7"]),
        sandbox=Sandbox("pause-process", 4026532400, "/proc/6000/ns/net", pid=6000),
        containers=[container("multi", "e" * 64, 6010, 4026532400)],
        interfaces=[LO, multi_eth0, macvlan, second], listeners=[], probes=[]))
    hostnet = build_report(healthy(
        pod=PodInfo(uid=uid(4), namespace="kube-system", name="agent", node="kind-worker", host_network=True,
                    pod_ips=["192.168.1.20"]),
        sandbox=Sandbox("pause-process", NODE_NETNS, "/proc/7000/ns/net", pid=7000),
        containers=[container("agent", "f" * 64, 7010, NODE_NETNS)],
        interfaces=[LO, Interface(ifindex=2, name="ens3", kind="device", mtu=1500, state="up", mac=None,
                                  addresses=UPLINK.addresses)], listeners=[], probes=[]))
    none = build_report(healthy(
        pod=PodInfo(uid=uid(5), namespace="shop", name="isolated", node="kind-worker", host_network=False,
                    pod_ips=[]),
        sandbox=Sandbox("pause-process", 4026532500, "/proc/8000/ns/net", pid=8000),
        containers=[container("job", "1" * 64, 8010, 4026532500), container("stray", "2" * 64, 8020, 4026532555)],
        interfaces=[LO], routes=[], listeners=[], probes=[]))
    host = HostView(netns_inode=NODE_NETNS, uplink="ens3", gateway="192.168.1.1", links=[
        HostLink(ifindex=1, name="lo", kind="loopback", mtu=65536, state="unknown", mac=None,
                 addresses=[Address("127.0.0.1", 8, 4, "host")]),
        UPLINK, CNI0,
        host_veth(7, "veth3a1f09c2", master="cni0"),
        host_veth(8, "veth77aa11bb", routes=["10.244.1.6/32"]),
        host_veth(9, "veth99cc22dd", master="cni0"),
        host_veth(10, "vethdeadbeef", master="cni0"),
        host_veth(11, "mveth99cc"),
    ])
    return build_node_map("kind-worker", host, [routed, bridged, multi, hostnet, none],
                          [MapError("shop", "pending", "pod shop/pending on kind-worker has no running container")])

"""Facts of a healthy two-container bridge pod, to be bent by each check test."""

from __future__ import annotations

import dataclasses
from typing import Any

from kubectl_podnet.model import (
    Address,
    ContainerFacts,
    ContainerRef,
    Interface,
    Listener,
    NodeFacts,
    NodeLink,
    Peer,
    PodInfo,
    Probe,
    Route,
    RouteLookup,
    Sandbox,
)

POD_NETNS = 4026532181
NODE_NETNS = 4026531840
WEB_ID = "a" * 64
SIDECAR_ID = "b" * 64
PAUSE_ID = "c" * 64
UID = "0a1b2c3d-0000-4000-8000-00000000abcd"


def container(name: str, cid: str, pid: int, netns: int | None = POD_NETNS) -> ContainerFacts:
    return ContainerFacts(
        id=cid, name=name, role="app", runtime="containerd", pids=[pid] if netns else [],
        command="/bin/server", netns_inode=netns, cgroup_path=f"/kubepods/pod{UID}/{cid}",
    )


def eth0(peer: Peer | None = None, addresses: list[Address] | None = None) -> Interface:
    return Interface(
        ifindex=2, name="eth0", kind="veth", mtu=1500, state="up", mac="ae:7d:8b:b8:3f:b1",
        addresses=addresses if addresses is not None else [Address("10.244.1.5", 24, 4, "global")],
        link_ifindex=7, link_netnsid=0,
        peer=peer if peer is not None else Peer(ifindex=7, name="veth3a1f09c2", kind="veth", confirmed=True,
                                                master="cni0", master_kind="bridge", mtu=1500),
    )


LO = Interface(ifindex=1, name="lo", kind="loopback", mtu=65536, state="unknown", mac="00:00:00:00:00:00",
               addresses=[Address("127.0.0.1", 8, 4, "host"), Address("::1", 128, 6, "host")])


def healthy(**changes: Any) -> NodeFacts:
    facts = NodeFacts(
        pod=PodInfo(uid=UID, namespace="default", name="web", node="kind-worker", host_network=False,
                    pod_ips=["10.244.1.5"]),
        sandbox=Sandbox(source="pause-process", netns_inode=POD_NETNS, netns_path="/proc/4711/ns/net", pid=4711,
                        container_id=PAUSE_ID, command="/pause", pinned_path="/var/run/netns/cni-1234"),
        node_netns_inode=NODE_NETNS,
        containers=[container("web", WEB_ID, 4720), container("sidecar", SIDECAR_ID, 4730)],
        expected_containers=[ContainerRef(WEB_ID, "web"), ContainerRef(SIDECAR_ID, "sidecar")],
        interfaces=[LO, eth0()],
        routes=[Route("default", "10.244.1.1", "eth0", "global", 4),
                Route("10.244.1.0/24", None, "eth0", "link", 4)],
        listeners=[Listener(4, "0.0.0.0", 8080, 90001, "web")],
        probes=[Probe("127.0.0.1", 8080, True, None, 0.1), Probe("::1", 8080, False, "ECONNREFUSED", 0.1)],
        pod_ip_probes=[Probe("10.244.1.5", 8080, True, None, 0.1)],
        node_routes=[RouteLookup("10.244.1.5", "unicast", "cni0", 5, "bridge")],
        uplink=NodeLink(2, "ens3", "device", 1500),
    )
    return dataclasses.replace(facts, **changes)

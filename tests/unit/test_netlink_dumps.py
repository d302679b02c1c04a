"""The rtnetlink parsers on dumps recorded from real namespaces (tests/samples/netlink).

No root needed: the raw kernel answers are decoded with pyroute2's marshal and parsed by
the pure functions the agent uses on live sockets.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kubectl_podnet.model import Interface
from kubectl_podnet.node import netlink, rtnl

SAMPLES = Path(__file__).parent.parent / "samples" / "netlink"
META: dict[str, Any] = json.loads((SAMPLES / "meta.json").read_text())


@cache
def dump(netns: str, kind: str) -> list[Any]:
    text = (SAMPLES / f"{netns}.{kind}.dump").read_text()
    return netlink.decode_dump(bytes.fromhex("".join(l for l in text.splitlines() if not l.startswith("#"))))


def interfaces(netns: str) -> list[Interface]:
    return rtnl.parse_interfaces(dump(netns, "links"), dump(netns, "addrs"))


def by_name(netns: str) -> dict[str, Interface]:
    return {i.name: i for i in interfaces(netns)}


def node_link(index: int) -> Any:
    return next(msg for msg in dump("node", "links") if msg["index"] == index)


def peer_of(pod: str, pod_nsid_in_node: int | None = None) -> Any:
    """What host_peer decides for a recorded pod's eth0, from the recorded node dumps."""
    eth0 = by_name(pod)["eth0"]
    assert eth0.link_ifindex is not None
    host = node_link(eth0.link_ifindex)
    master = node_link(host.get("master")) if host.get("master") else None
    routes = [] if master is not None else rtnl.routes_via(dump("node", "routes"), host["index"])
    nsid = META["pods"][pod]["podNsidInNode"] if pod_nsid_in_node is None else pod_nsid_in_node
    return rtnl.match_peer(eth0, host, nsid, master, routes)


@pytest.mark.parametrize("pod", ["bridge", "ptp", "macvlan", "dualstack"])
def test_every_pod_netns_has_lo_and_a_veth_eth0_carrying_its_pod_ips(pod: str) -> None:
    found = by_name(pod)
    assert found["lo"].kind == "loopback" and found["eth0"].kind == "veth"
    globals_ = {a.address for a in found["eth0"].addresses if a.scope == "global"}
    assert globals_ == set(META["pods"][pod]["podIPs"])
    assert found["eth0"].link_netnsid == META["pods"][pod]["nodeNsidInPod"]
    assert {a.scope for a in found["lo"].addresses} == {"host"}


def test_bridge_pod_peer_is_confirmed_and_named_with_its_bridge() -> None:
    peer = peer_of("bridge")
    assert peer.confirmed and peer.reason is None
    assert (peer.name, peer.kind, peer.master, peer.master_kind) == (META["pods"]["bridge"]["hostVeth"], "veth",
                                                                     "cni0", "bridge")
    assert peer.routes == []


def test_routed_ptp_pod_peer_has_no_bridge_and_the_pod_host_route() -> None:
    peer = peer_of("ptp")
    assert peer.confirmed and peer.master is None and peer.name == META["pods"]["ptp"]["hostVeth"]
    assert peer.routes == [f"{META['pods']['ptp']['podIPs'][0]}/32"]


def test_ptp_pod_routes_leave_eth0_via_an_on_link_gateway() -> None:
    routes = rtnl.parse_routes(dump("ptp", "routes"), {i.ifindex: i.name for i in interfaces("ptp")})
    default = next(r for r in routes if r.dst == "default")
    assert (default.gateway, default.dev, default.family) == ("10.244.1.1", "eth0", 4)
    assert any(r.dst == "10.244.1.1/32" and r.scope == "link" and r.gateway is None for r in routes)


def test_the_same_eth0_ifindex_in_another_pod_is_not_the_peer() -> None:
    # every pod's eth0 has the same ifindex; only the netnsid tells the pods apart
    assert len({by_name(p)["eth0"].ifindex for p in ("bridge", "ptp", "macvlan", "dualstack")}) == 1
    other = META["pods"]["dualstack"]["podNsidInNode"]
    peer = peer_of("bridge", pod_nsid_in_node=other)
    assert not peer.confirmed and peer.reason == "the host link does not point back at the pod's eth0"


def test_a_peer_ifindex_missing_on_the_node_is_reported_not_guessed() -> None:
    eth0 = by_name("bridge")["eth0"]
    peer = rtnl.match_peer(eth0, None, 0, None, [])
    assert not peer.confirmed and peer.reason == "no such ifindex" and peer.ifindex == eth0.link_ifindex


def test_a_peer_in_another_netns_than_the_nodes_is_said_so() -> None:
    eth0 = by_name("bridge")["eth0"]
    assert rtnl.peer_in_another_netns(eth0, META["pods"]["bridge"]["nodeNsidInPod"]) is None
    elsewhere = rtnl.peer_in_another_netns(eth0, 99)
    assert elsewhere is not None and not elsewhere.confirmed and "another netns" in str(elsewhere.reason)


def test_macvlan_pod_has_a_second_interface_of_kind_macvlan() -> None:
    found = by_name("macvlan")
    assert sorted(found) == ["eth0", "lo", "net1"] and found["net1"].kind == "macvlan"
    assert peer_of("macvlan").confirmed  # eth0 is still the pod's veth on cni0


def test_dual_stack_pod_has_both_families_on_eth0_and_routes_in_both() -> None:
    eth0 = by_name("dualstack")["eth0"]
    assert {(a.family, a.scope) for a in eth0.addresses} == {(4, "global"), (6, "global"), (6, "link")}
    routes = rtnl.parse_routes(dump("dualstack", "routes"), {eth0.ifindex: "eth0"})
    assert {r.family for r in routes} == {4, 6} and any(r.dst == "fd00:10:244::/64" for r in routes)
    assert peer_of("dualstack").confirmed


def test_host_network_sees_the_node_links_a_bridge_and_one_host_veth_per_pod() -> None:
    node = by_name("node")
    assert node["cni0"].kind == "bridge"
    assert {a.address for a in node["cni0"].addresses if a.scope == "global"} == {"10.244.0.1", "fd00:10:244::1"}
    assert META["pods"]["hostnet"]["podIPs"][0] in {a.address for i in node.values() for a in i.addresses}
    host_veths = {p["hostVeth"] for p in META["pods"].values() if p["hostVeth"]}
    assert host_veths <= {name for name, i in node.items() if i.kind == "veth"}


def test_link_local_and_other_tables_are_left_out_of_peer_routes() -> None:
    host_veth = by_name("node")[META["pods"]["bridge"]["hostVeth"]]
    assert rtnl.routes_via(dump("node", "routes"), host_veth.ifindex) == []  # only fe80::/64 goes there

"""The node map: the node's view shaped from netlink values, the join of host links to pods,
the versioned document's round trips and schema, and the agent's answer read back."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
import yaml

from kubectl_podnet.checks.nodemap import node_map_from, pod_wires
from kubectl_podnet.checks.report import build_report
from kubectl_podnet.errors import AgentError, UsageError
from kubectl_podnet.model import Address, Interface, MapError, Peer, PodNetNodeMap, Route
from kubectl_podnet.node.engine import run
from kubectl_podnet.node.hostview import host_view
from kubectl_podnet.render.structured import render_json_doc, render_yaml_doc
from kubectl_podnet.serde import from_json, to_json
from tests.factories import eth0, healthy
from tests.mapfactories import sample_map

ROOT = Path(__file__).resolve().parents[2]


def link(ifindex: int, name: str, kind: str, **more: object) -> Interface:
    return Interface(ifindex=ifindex, name=name, kind=kind, mtu=1500, state="up", mac=None, **more)  # type: ignore[arg-type]


def test_host_view_takes_the_uplink_from_the_default_route_and_files_routes_by_device() -> None:
    interfaces = [link(1, "lo", "loopback"), link(2, "ens3", "device", addresses=[Address("192.168.1.20", 24, 4, "global")]),
                  link(4, "cni0", "bridge"), link(7, "veth1", "veth", link_ifindex=2, link_netnsid=0),
                  link(8, "veth2", "veth", link_ifindex=2, link_netnsid=1)]
    routes = [Route("default", "192.168.1.1", "ens3", "global", 4), Route("10.244.1.0/24", None, "cni0", "link", 4),
              Route("10.244.1.9/32", None, "veth2", "host", 4), Route("fe80::/64", None, "veth2", "link", 6)]
    view = host_view(4026531840, interfaces, routes, masters={7: 4})
    assert (view.uplink, view.gateway, view.netns_inode) == ("ens3", "192.168.1.1", 4026531840)
    by_name = {item.name: item for item in view.links}
    assert by_name["veth1"].master == "cni0" and by_name["veth2"].master is None
    assert by_name["cni0"].routes == ["10.244.1.0/24"]
    assert by_name["veth2"].routes == ["10.244.1.9/32"]  # the link-local fe80::/64 is not a pod route
    assert by_name["veth2"].link_netnsid == 1
    assert [item.ifindex for item in view.links] == [1, 2, 4, 7, 8]


def test_host_view_without_default_route_has_no_uplink() -> None:
    view = host_view(1, [link(1, "lo", "loopback")], [], {})
    assert view.uplink is None and view.gateway is None


def test_a_confirmed_veth_peer_is_a_wire_and_an_unconfirmed_one_is_not() -> None:
    node_map = sample_map()
    report = next(r for r in node_map.pods if r.pod.name == "web")
    (wire,) = pod_wires(report, node_map.host)
    assert (wire.host_ifindex, wire.host_link, wire.pod_interface, wire.kind) == (7, "veth3a1f09c2", "eth0", "veth")
    peer = eth0().peer
    assert peer is not None
    doubtful = dataclasses.replace(eth0(), peer=dataclasses.replace(peer, confirmed=False))
    assert pod_wires(build_report(healthy(interfaces=[doubtful])), node_map.host) == []


def test_a_peer_index_the_node_does_not_have_is_no_wire() -> None:
    elsewhere = eth0(Peer(ifindex=99, name="veth-x", kind="veth", confirmed=True))
    assert pod_wires(build_report(healthy(interfaces=[elsewhere])), sample_map().host) == []


def test_a_macvlan_is_wired_to_its_parent_only_when_the_pods_veth_proves_the_netns() -> None:
    node_map = sample_map()
    multi = next(r for r in node_map.pods if r.pod.name == "multi")
    assert [(w.host_link, w.pod_interface, w.kind) for w in pod_wires(multi, node_map.host)] == [
        ("veth99cc22dd", "eth0", "veth"), ("mveth99cc", "net2", "veth"), ("ens3", "net1", "macvlan")]
    # the macvlan's parent in some other netns (another nsid): ifindex 2 there is not our ens3
    other = [dataclasses.replace(i, link_netnsid=5) if i.kind == "macvlan" else i for i in multi.interfaces]
    assert [w.kind for w in pod_wires(dataclasses.replace(multi, interfaces=other), node_map.host)] == ["veth", "veth"]


def test_host_network_pods_have_no_wires_and_pods_are_ordered_by_namespace_and_name() -> None:
    node_map = sample_map()
    assert not [w for w in node_map.wires if w.name == "agent"]
    assert [f"{r.pod.namespace}/{r.pod.name}" for r in node_map.pods] == [
        "default/api", "default/web", "kube-system/agent", "shop/isolated", "shop/multi"]


def test_json_and_yaml_round_trips_give_the_same_map() -> None:
    node_map = sample_map()
    assert from_json(PodNetNodeMap, json.loads(render_json_doc(to_json(node_map)))) == node_map
    assert from_json(PodNetNodeMap, yaml.safe_load(render_yaml_doc(to_json(node_map)))) == node_map


def test_top_level_keys_are_the_documented_schema() -> None:
    data = to_json(sample_map())
    assert (data["apiVersion"], data["kind"]) == ("podnet/v1", "PodNetNodeMap")
    assert list(data) == ["apiVersion", "kind", "generator", "node", "host", "wires", "pods", "errors"]
    documented = re.findall(r"^\| `(\w+)` \|", (ROOT / "docs" / "nodemap.md").read_text(), re.MULTILINE)
    for key in list(data) + list(data["host"]) + list(data["host"]["links"][0]) + list(data["wires"][0]):
        assert key in documented, key
    assert data["pods"][0]["kind"] == "PodNetReport"  # each pod's report, whole


def test_the_agents_answer_becomes_the_map_and_a_failed_pod_an_error() -> None:
    node_map = sample_map()
    items = [{"kind": "AgentResult", "exitCode": 0, "report": to_json(node_map.pods[0]), "error": None},
             {"kind": "AgentResult", "exitCode": 3, "report": None,
              "error": {"kind": "NodeError", "message": "no process of pod x on this node"}}]
    envelope = {"kind": "AgentResultList", "exitCode": 3, "items": items, "hostView": to_json(node_map.host)}
    built = node_map_from(envelope, "pod a/b", "kind-worker", [("default", "api"), ("shop", "gone")])
    assert [r.pod.name for r in built.pods] == ["api"]
    assert built.errors == [MapError("shop", "gone", "on node kind-worker: no process of pod x on this node")]


def test_an_answer_without_node_view_or_with_the_wrong_count_is_an_agent_error() -> None:
    with pytest.raises(AgentError, match="no node view"):
        node_map_from({"kind": "AgentResultList", "items": []}, "pod a/b", None, [])
    envelope = {"kind": "AgentResultList", "items": [], "hostView": to_json(sample_map().host)}
    with pytest.raises(AgentError, match="0 results for 1 pods"):
        node_map_from(envelope, "pod a/b", None, [("a", "b")])
    with pytest.raises(UsageError, match="bad uid"):
        node_map_from({"kind": "AgentResult", "error": {"kind": "UsageError", "message": "bad uid"}}, "x", None, [])


def test_the_agent_refuses_a_map_request_whose_pods_are_not_a_list() -> None:
    code, envelope = run(json.dumps({"pods": "web"}))
    assert code == 2 and "pods is not a list" in envelope["error"]["message"]  # type: ignore[index]

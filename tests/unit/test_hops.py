"""The hops of `connect`, judged again from both nodes' facts recorded on the real kind cluster
(tests/samples/connect, re-recorded by its record.py), and from those facts changed one
field at a time for the breaks a cluster here cannot be made to show (rp_filter, forwarding
off, a route missing, DNAT, a gateway that never answered ARP, packets lost before B's node).
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path

import pytest

from kubectl_podnet.cluster.connect import internal_ip, node_ref, selecting_policies
from kubectl_podnet.connect_model import (
    Accepted,
    Capture,
    ConnectSide,
    Dial,
    Hop,
    NodeRef,
    PodNetConnect,
    PolicyRef,
    Sysctls,
)
from kubectl_podnet.checks.hops import HOP_IDS, build_connect, judge
from kubectl_podnet.model import RouteLookup
from kubectl_podnet.serde import from_json, to_json

SAMPLES = Path(__file__).parent.parent / "samples" / "connect"


@cache
def recorded(case: str) -> PodNetConnect:
    return from_json(PodNetConnect, json.loads((SAMPLES / f"kind-{case}.json").read_text()))


def rejudge(report: PodNetConnect, a: ConnectSide | None = None, b: ConnectSide | None = None,
            policies: list[PolicyRef] | None = None) -> PodNetConnect:
    return build_connect(a or report.source, b or report.target, report.source_node_ip, report.target_node_ip,
                         report.same_node, report.policies if policies is None else policies,
                         target_node=report.target_node)


def failing(report: PodNetConnect) -> list[tuple[str, str | None]]:
    return [(hop.id, hop.node) for hop in report.hops if hop.status == "fail"]


def hop(report: PodNetConnect, hop_id: str) -> str:
    return next(h.detail for h in report.hops if h.id == hop_id)


A, B = "podnet-kind-worker", "podnet-kind-worker2"


@pytest.mark.parametrize(("case", "fails"), [
    ("across", []),
    ("one-node", []),
    ("masquerade", [("connection", B)]),
    ("vxlan-dropped", [("overlay", B), ("connection", B), ("port", B)]),
    ("underlay-mtu", [("mtu", A)]),
    ("forward-drop", [("a-forward", A), ("connection", B), ("port", B)]),
    ("stale-fdb", [("overlay", A), ("connection", B), ("port", B)]),
])
def test_the_recorded_facts_are_judged_to_the_hop_and_node_that_broke(case: str, fails: list[tuple[str, str]]) -> None:
    report = rejudge(recorded(case))
    assert [h.id for h in report.hops] == list(HOP_IDS)
    assert failing(report) == fails
    assert report.verdict == ("fail" if fails else "pass")
    assert from_json(PodNetConnect, json.loads(json.dumps(to_json(report)))) == report


def test_a_healthy_connect_proves_no_nat_and_draws_the_path_through_flannel() -> None:
    report = rejudge(recorded("across"))
    a_ip, b_ip = report.source.report.pod.pod_ips[0], report.target.report.pod.pod_ips[0]
    assert f"B saw {a_ip} = A's pod IP (no SNAT), A reached {b_ip} = B's pod IP (no DNAT)" in hop(report, "connection")
    assert report.path.startswith("a eth0 -> veth") and f"=udp 8472=> {B} eth0 -> flannel.1 -> cni0 -> veth" in \
        report.path and report.path.endswith("-> b eth0")
    assert f"-> {report.target_node_ip}" in hop(report, "overlay")


def test_one_node_skips_the_overlay_and_says_the_bridge_switched_it() -> None:
    report = rejudge(recorded("one-node"))
    statuses = {h.id: h.status for h in report.hops}
    assert statuses["overlay"] == statuses["b-deliver"] == "skip"
    assert hop(report, "a-forward") == "same bridge cni0: switched, not routed"


def test_each_recorded_fault_names_its_cause() -> None:
    assert "(SNAT)" in hop(rejudge(recorded("masquerade")), "connection")
    assert "MASQUERADE" in hop(rejudge(recorded("masquerade")), "connection")
    dropped = rejudge(recorded("vxlan-dropped"))
    assert "reached podnet-kind-worker2" in hop(dropped, "overlay") and "--dport 8472 -j DROP" in hop(dropped, "overlay")
    assert "the path breaks at overlay" in hop(dropped, "connection")
    assert "the largest that arrives is 1350" in hop(rejudge(recorded("underlay-mtu")), "mtu")
    assert "-j DROP" in hop(rejudge(recorded("forward-drop")), "a-forward")
    stale = rejudge(recorded("stale-fdb"))
    assert "172.18.255.254" in hop(stale, "overlay") and "stale VTEP" in hop(stale, "overlay")


# ---- breaks made from the healthy facts, one field at a time ------------------------------

def _healthy() -> tuple[PodNetConnect, ConnectSide, ConnectSide]:
    report = recorded("across")
    return report, report.source, report.target


def _failed_dial(side: ConnectSide) -> ConnectSide:
    return dataclasses.replace(side, dials=[Dial(side.dials[0].target, side.dials[0].port, False, "ETIMEDOUT",
                                                 attempts=3)], mtu_sent=[])


def test_rp_filter_refusing_as_packet_fails_the_forwarding_hop() -> None:
    report, a, _ = _healthy()
    assert a.node_lookup is not None
    refused = dataclasses.replace(a.node_lookup, error="EXDEV", dev=None, type="unreachable")
    judged = rejudge(report, a=_failed_dial(dataclasses.replace(a, node_lookup=refused)))
    assert ("a-forward", A) in failing(judged) and "rp_filter drops A's packets arriving on cni0" in \
        hop(judged, "a-forward")


def test_forwarding_off_on_as_node_fails_with_the_sysctl() -> None:
    report, a, _ = _healthy()
    assert a.sysctls is not None
    off = dataclasses.replace(a, sysctls=dataclasses.replace(a.sysctls, ip_forward=0))
    judged = rejudge(report, a=_failed_dial(off))
    assert ("a-forward", A) in failing(judged) and "net.ipv4.ip_forward=0" in hop(judged, "a-forward")


def test_no_route_to_bs_pod_cidr_on_as_node_fails_forwarding() -> None:
    report, a, _ = _healthy()
    missing = RouteLookup(report.target.report.pod.pod_ips[0], "unreachable", None, None, None, error="ENETUNREACH")
    judged = rejudge(report, a=_failed_dial(dataclasses.replace(a, node_lookup=missing, tunnel=None)))
    assert ("a-forward", A) in failing(judged) and "has no route for A's packet" in hop(judged, "a-forward")


def test_a_gateway_that_never_answered_arp_fails_the_egress() -> None:
    report, a, _ = _healthy()
    judged = rejudge(report, a=_failed_dial(dataclasses.replace(a, gateway_neighbour="FAILED")))
    assert ("a-egress", A) in failing(judged) and "does not answer ARP" in hop(judged, "a-egress")


def test_packets_that_never_reached_bs_uplink_are_lost_between_the_nodes() -> None:
    report, a, b = _healthy()
    silent = dataclasses.replace(b, captures=[Capture("eth0", "encapsulated", 0), Capture("veth1", "inner", 0)],
                                 accepted=Accepted(listening=True))
    judged = rejudge(report, a=_failed_dial(a), b=silent)
    assert ("overlay", A) in failing(judged)
    assert f"the packets left {A} and never reached {B}'s uplink eth0" in hop(judged, "overlay")


def test_dnat_on_the_way_is_named() -> None:
    report, _, b = _healthy()
    assert b.accepted is not None
    judged = rejudge(report, b=dataclasses.replace(b, accepted=dataclasses.replace(b.accepted, local="10.96.0.10")))
    assert failing(judged) == [("connection", B)] and "(DNAT)" in hop(judged, "connection")


def test_the_listener_that_could_not_open_is_said() -> None:
    report, _, b = _healthy()
    judged = rejudge(report, b=dataclasses.replace(b, accepted=Accepted(listening=False, error="EADDRINUSE")))
    assert "could not open in B's netns (EADDRINUSE)" in hop(judged, "connection")


def test_policies_are_listed_and_suspected_only_when_the_connect_failed() -> None:
    report, a, _ = _healthy()
    deny = [PolicyRef("demo", "deny-all", "ingress", "b")]
    assert next(h for h in rejudge(report, policies=deny).hops if h.id == "policy").status == "pass"
    failed = rejudge(report, a=_failed_dial(a), policies=deny)
    policy = next(h for h in failed.hops if h.id == "policy")
    assert policy.status == "warn" and "demo/deny-all (ingress of B)" in policy.detail


def test_a_routed_cni_whose_next_hop_is_not_bs_node_fails_the_overlay() -> None:
    report, a, _ = _healthy()
    assert a.node_lookup is not None
    routed = dataclasses.replace(a.node_lookup, dev="eth0", kind="veth", gateway="172.18.0.9")
    judged = rejudge(report, a=dataclasses.replace(a, node_lookup=routed, tunnel=None))
    assert ("overlay", A) in failing(judged) and "not podnet-kind-worker2's InternalIP" in hop(judged, "overlay")


def test_judge_needs_no_cluster() -> None:
    report, a, b = _healthy()
    assert [h.id for h in judge(a, b, report.target_node_ip, False, [])] == list(HOP_IDS)


# ---- the API side: InternalIP and NetworkPolicy selection ---------------------------------

def test_internal_ip_is_read_from_the_nodes_addresses() -> None:
    node = {"status": {"addresses": [{"type": "Hostname", "address": "w1"}, {"type": "InternalIP",
                                                                             "address": "172.18.0.4"}]}}
    assert internal_ip(node) == "172.18.0.4" and internal_ip(None) is None


def test_network_policies_select_by_labels_and_expressions_per_direction() -> None:
    pod = {"metadata": {"labels": {"app": "web", "tier": "front"}}}
    policies = [
        {"metadata": {"namespace": "d", "name": "all"}, "spec": {"podSelector": {}}},  # ingress by default
        {"metadata": {"namespace": "d", "name": "web-egress"},
         "spec": {"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Egress"]}},
        {"metadata": {"namespace": "d", "name": "db"}, "spec": {"podSelector": {"matchLabels": {"app": "db"}}}},
        {"metadata": {"namespace": "d", "name": "not-back"},
         "spec": {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["back"]}]},
                  "policyTypes": ["Ingress", "Egress"]}},
    ]
    assert [p.name for p in selecting_policies(policies, pod, "ingress", "b")] == ["all", "not-back"]
    assert [p.name for p in selecting_policies(policies, pod, "egress", "a")] == ["web-egress", "not-back"]


def test_sysctls_without_br_netfilter_round_trip() -> None:
    value = Sysctls(ip_forward=1, forwarding={"all": 1}, rp_filter={"all": 2})
    assert from_json(Sysctls, to_json(value)) == value


def test_policies_that_could_not_be_listed_are_a_skip_that_says_why() -> None:
    report, a, b = _healthy()
    hops = build_connect(a, b, report.source_node_ip, report.target_node_ip, False, [], policies_unknown=True).hops
    policy = next(h for h in hops if h.id == "policy")
    assert policy.status == "skip" and "networkpolicies list" in policy.detail


# ---- the API's view of B's node: flannel's annotations and the podCIDR ---------------------

def _api(**changes: object) -> NodeRef:
    report = recorded("across")
    assert report.source.tunnel is not None
    base = NodeRef(B, report.target_node_ip, ["10.244.1.0/24"], report.source.tunnel.gateway_mac,
                   report.target_node_ip)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _overlay(api: NodeRef) -> Hop:
    report, a, b = _healthy()
    return next(h for h in judge(a, b, report.target_node_ip, False, [], api=api) if h.id == "overlay")


def test_the_api_agreeing_with_the_kernel_passes_the_overlay() -> None:
    assert _overlay(_api()).status == "pass"


def test_a_neighbour_mac_that_is_not_bs_flannel_vtep_mac_is_stale() -> None:
    hop = _overlay(_api(vtep_mac="0a:0b:0c:0d:0e:0f"))
    assert hop.status == "fail" and "flannel VtepMAC" in hop.detail and "0a:0b:0c:0d:0e:0f" in (hop.fix or "")


def test_flannels_public_ip_is_the_address_the_fdb_must_name() -> None:
    hop = _overlay(_api(public_ip="192.0.2.77"))
    assert hop.status == "fail" and "flannel public-ip is 192.0.2.77" in hop.detail


def test_bs_ip_outside_its_nodes_pod_cidr_warns() -> None:
    hop = _overlay(_api(pod_cidrs=["10.244.9.0/24"]))
    assert hop.status == "warn" and "outside" in hop.detail


def test_node_ref_reads_internal_ip_pod_cidrs_and_flannels_annotations() -> None:
    node = {"metadata": {"annotations": {
        "flannel.alpha.coreos.com/backend-data": '{"VNI":1,"VtepMAC":"16:2e:5a:00:aa:01"}',
        "flannel.alpha.coreos.com/public-ip": "172.18.0.2"}},
        "spec": {"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]},
        "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]}}
    assert node_ref("w2", node) == NodeRef("w2", "172.18.0.2", ["10.244.1.0/24"], "16:2e:5a:00:aa:01", "172.18.0.2")
    assert node_ref("w3", {"metadata": {"annotations": {"flannel.alpha.coreos.com/backend-data": "{"}}}) == \
        NodeRef("w3")


def test_forwarding_off_on_bs_node_fails_the_delivery_with_the_sysctl() -> None:
    report, a, b = _healthy()
    assert b.node_lookup is not None and b.sysctls is not None
    refused = dataclasses.replace(b.node_lookup, error="EHOSTUNREACH", dev=None, type="unreachable")
    off = dataclasses.replace(b, node_lookup=refused, sysctls=dataclasses.replace(b.sysctls, ip_forward=0))
    judged = rejudge(report, a=_failed_dial(a), b=off)
    assert ("b-deliver", B) in failing(judged) and "net.ipv4.ip_forward=0" in hop(judged, "b-deliver")
    assert "the path breaks at b-deliver" in hop(judged, "connection")


def test_a_delivery_to_another_device_than_bs_fails() -> None:
    report, _, b = _healthy()
    assert b.node_lookup is not None
    elsewhere = dataclasses.replace(b, node_lookup=dataclasses.replace(b.node_lookup, dev="docker0"))
    judged = rejudge(report, b=elsewhere)
    assert ("b-deliver", B) in failing(judged) and "sends it to docker0" in hop(judged, "b-deliver")


def test_bs_own_port_refused_fails_the_port_hop_alone() -> None:
    report, a, _ = _healthy()
    refused = dataclasses.replace(a, dials=[a.dials[0], Dial(a.dials[1].target, 8080, False, "ECONNREFUSED")])
    judged = rejudge(report, a=refused)
    assert failing(judged) == [("port", B)] and "nothing listens there" in hop(judged, "port")

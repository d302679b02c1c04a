"""Every check: every pass / warn / fail / skip path, facts in, verdicts out."""

from __future__ import annotations

import dataclasses

from kubectl_podnet.checks.reach import check_localhost
from kubectl_podnet.checks.registry import CHECKS
from kubectl_podnet.checks.report import build_report
from kubectl_podnet.checks.sandbox import check_pause_container, check_shared_ip, check_shared_netns, check_single_veth
from kubectl_podnet.checks.verdict import Verdict
from kubectl_podnet.model import Address, AttachedNetwork, ContainerState, Interface, Listener, Peer, Probe, Sandbox
from tests.factories import LO, NODE_NETNS, POD_NETNS, SIDECAR_ID, container, eth0, healthy


def test_a_healthy_pod_passes_every_check_in_a_stable_order() -> None:
    report = build_report(healthy())
    assert [c.id for c in report.checks] == [check.id for check in CHECKS]
    assert {c.status for c in report.checks} == {"pass"}
    assert report.verdict == "pass"


# ---- pause-container ----------------------------------------------------------------

def test_pause_process_found_passes_with_pid_and_netns_as_evidence() -> None:
    result = check_pause_container(healthy())
    assert result.status == "pass"
    assert result.evidence["pid"] == 4711
    assert result.evidence["netns"] == f"net:[{POD_NETNS}]"


def test_pinned_netns_without_pause_passes_and_says_so() -> None:
    sandbox = Sandbox(source="pinned-netns", netns_inode=POD_NETNS, netns_path="/var/run/netns/x",
                      pinned_path="/var/run/netns/x")
    result = check_pause_container(healthy(sandbox=sandbox))
    assert result.status == "pass"
    assert "no pause process" in result.summary and "/var/run/netns/x" in result.summary


def test_no_sandbox_at_all_fails_with_a_fix() -> None:
    result = check_pause_container(healthy(sandbox=Sandbox(source="none", netns_inode=None, netns_path=None)))
    assert result.status == "fail" and result.fix


# ---- shared-netns -------------------------------------------------------------------

def test_container_in_its_own_netns_fails_and_is_named() -> None:
    facts = healthy(containers=[container("web", "a" * 64, 1), container("sidecar", SIDECAR_ID, 2, netns=999)])
    result = check_shared_netns(facts)
    assert result.status == "fail"
    assert result.summary.startswith("sidecar not in the sandbox netns")
    assert result.evidence["containers"]["sidecar"] == "net:[999]"


def test_container_not_running_warns() -> None:
    facts = healthy(containers=[container("web", "a" * 64, 1), container("sidecar", SIDECAR_ID, 2, netns=None)])
    result = check_shared_netns(facts)
    assert result.status == "warn" and "not running: sidecar" in result.summary


def test_a_crashing_container_warns_with_its_state_and_a_finished_init_does_not() -> None:
    crashing = dataclasses.replace(
        container("sidecar", SIDECAR_ID, 0, netns=None),
        status=ContainerState("waiting", "CrashLoopBackOff", last_exit_code=1, restart_count=4))
    migrated = dataclasses.replace(container("migrate", "d" * 64, 0, netns=None), role="init",
                                   status=ContainerState("terminated", "Completed", exit_code=0))
    facts = healthy(containers=[healthy().containers[0], crashing, migrated])
    result = check_shared_netns(facts)
    assert result.status == "warn"
    assert result.summary.endswith(
        "; not running: sidecar (waiting: CrashLoopBackOff, last exit code 1, 4 restarts)")
    assert result.evidence["states"] == {
        "sidecar": "waiting: CrashLoopBackOff, last exit code 1, 4 restarts",
        "migrate": "terminated: Completed, exit code 0",
    }
    assert check_shared_netns(healthy(containers=[healthy().containers[0], migrated])).status == "pass"


def test_no_running_container_fails() -> None:
    facts = healthy(containers=[container("web", "a" * 64, 1, netns=None)])
    assert check_shared_netns(facts).status == "fail"


def test_host_network_pod_must_share_the_node_netns() -> None:
    pod = dataclasses.replace(healthy().pod, host_network=True)
    sharing = healthy(pod=pod, containers=[container("web", "a" * 64, 1, netns=NODE_NETNS)])
    assert check_shared_netns(sharing).status == "pass"
    assert "node's netns" in check_shared_netns(sharing).summary
    assert check_shared_netns(healthy(pod=pod)).status == "fail"


def test_missing_sandbox_netns_fails_shared_netns() -> None:
    facts = healthy(sandbox=Sandbox(source="none", netns_inode=None, netns_path=None))
    assert check_shared_netns(facts).status == "fail"


# ---- shared-ip ----------------------------------------------------------------------

def test_pod_ip_on_eth0_passes() -> None:
    result = check_shared_ip(healthy())
    assert result.status == "pass" and "10.244.1.5/24 on eth0" in result.summary


def test_pod_ip_missing_from_eth0_fails() -> None:
    pod = dataclasses.replace(healthy().pod, pod_ips=["10.244.1.5", "fd00::5"])
    result = check_shared_ip(healthy(pod=pod))
    assert result.status == "fail" and "fd00::5 not on eth0" in result.summary


def test_dual_stack_ips_compare_in_canonical_form() -> None:
    pod = dataclasses.replace(healthy().pod, pod_ips=["10.244.1.5", "FD00:0::5"])
    iface = eth0(addresses=[Address("10.244.1.5", 24, 4, "global"), Address("fd00::5", 64, 6, "global")])
    assert check_shared_ip(healthy(pod=pod, interfaces=[LO, iface])).status == "pass"


def test_no_pod_ips_given_skips() -> None:
    pod = dataclasses.replace(healthy().pod, pod_ips=[])
    assert check_shared_ip(healthy(pod=pod)).status == "skip"


def test_no_eth0_fails_shared_ip() -> None:
    assert check_shared_ip(healthy(interfaces=[LO])).status == "fail"


def test_host_network_pod_ips_are_node_addresses() -> None:
    node_if = Interface(2, "ens3", "device", 1500, "up", None, [Address("192.0.2.10", 24, 4, "global")])
    pod = dataclasses.replace(healthy().pod, host_network=True, pod_ips=["192.0.2.10"])
    assert check_shared_ip(healthy(pod=pod, interfaces=[LO, node_if])).status == "pass"
    other = dataclasses.replace(pod, pod_ips=["192.0.2.99"])
    assert check_shared_ip(healthy(pod=other, interfaces=[LO, node_if])).status == "fail"


# ---- single-veth --------------------------------------------------------------------

def test_one_veth_with_confirmed_peer_on_a_bridge_passes_and_names_it() -> None:
    result = check_single_veth(healthy())
    assert result.status == "pass"
    assert result.summary == "eth0 <-> veth3a1f09c2 (host, ifindex 7) on bridge cni0"


def test_routed_peer_names_its_host_route() -> None:
    peer = Peer(ifindex=7, name="veth3a1f09c2", kind="veth", confirmed=True, routes=["10.244.1.5/32"])
    result = check_single_veth(healthy(interfaces=[LO, eth0(peer=peer)]))
    assert result.status == "pass" and "routed: 10.244.1.5/32" in result.summary


def test_unconfirmed_peer_fails_with_the_reason() -> None:
    peer = Peer(ifindex=7, name=None, kind=None, confirmed=False, reason="the veth peer lives in another netns")
    result = check_single_veth(healthy(interfaces=[LO, eth0(peer=peer)]))
    assert result.status == "fail" and "another netns" in result.summary


def test_no_veth_fails() -> None:
    assert check_single_veth(healthy(interfaces=[LO])).status == "fail"


def test_extra_interface_warns_and_lists_it() -> None:
    macvlan = Interface(3, "net1", "macvlan", 1500, "up", None)
    result = check_single_veth(healthy(interfaces=[LO, eth0(), macvlan]))
    assert result.status == "warn" and "net1 (macvlan)" in result.summary and result.fix


MACVLAN = Interface(3, "net1", "macvlan", 1500, "up", None, [Address("192.168.1.20", 24, 4, "global")])
NETWORK_STATUS = [
    AttachedNetwork("podnet-bridge", "eth0", ["10.244.1.5"], default=True),
    AttachedNetwork("default/macvlan-conf", "net1", ["192.168.1.20"]),
]


def _multus(networks: list[AttachedNetwork], interfaces: list[Interface]) -> Verdict:
    pod = dataclasses.replace(healthy().pod, networks=networks)
    return check_single_veth(healthy(pod=pod, interfaces=interfaces))


def test_interfaces_declared_by_network_status_pass_and_are_listed() -> None:
    result = _multus(NETWORK_STATUS, [LO, eth0(), MACVLAN])
    assert result.status == "pass"
    assert result.summary.endswith("; networks: net1 (macvlan, 192.168.1.20, network default/macvlan-conf)")
    assert result.evidence["networks"][1] == {
        "interface": "net1", "network": "default/macvlan-conf", "declaredIps": ["192.168.1.20"], "present": True,
        "kind": "macvlan", "ips": ["192.168.1.20"],
    }


def test_an_interface_network_status_does_not_declare_warns() -> None:
    stray = Interface(4, "net2", "veth", 1500, "up", None)
    result = _multus(NETWORK_STATUS, [LO, eth0(), MACVLAN, stray])
    assert result.status == "warn" and result.summary.endswith("extra interfaces: net2 (veth)")
    assert "network default/macvlan-conf" in result.summary


def test_a_declared_interface_missing_from_the_netns_fails() -> None:
    result = _multus(NETWORK_STATUS, [LO, eth0()])
    assert result.status == "fail"
    assert "missing from the netns: net1 (default/macvlan-conf)" in result.summary and result.fix


def test_host_network_skips_single_veth() -> None:
    pod = dataclasses.replace(healthy().pod, host_network=True)
    assert check_single_veth(healthy(pod=pod)).status == "skip"


# ---- localhost ----------------------------------------------------------------------

def _probes(port: int, v4: bool, v6: bool) -> list[Probe]:
    return [Probe("127.0.0.1", port, v4, None if v4 else "ECONNREFUSED", 0.1),
            Probe("::1", port, v6, None if v6 else "ECONNREFUSED", 0.1)]


def test_listener_reachable_on_127_passes() -> None:
    assert check_localhost(healthy()).status == "pass"


def test_listener_bound_only_to_the_pod_ip_fails_with_the_fix() -> None:
    facts = healthy(listeners=[Listener(4, "10.244.1.5", 8080, 1, "web")], probes=_probes(8080, False, False))
    result = check_localhost(facts)
    assert result.status == "fail"
    assert "bound only to 10.244.1.5" in result.summary and "0.0.0.0" in (result.fix or "")


def test_listener_only_on_ipv6_loopback_warns() -> None:
    facts = healthy(listeners=[Listener(6, "::1", 9090, 1, "web")], probes=_probes(9090, False, True))
    result = check_localhost(facts)
    assert result.status == "warn" and "only at [::1]:9090" in result.summary


def test_wildcard_listener_that_refuses_fails_with_the_error() -> None:
    facts = healthy(listeners=[Listener(4, "0.0.0.0", 8080, 1, "web")], probes=_probes(8080, False, False))
    result = check_localhost(facts)
    assert result.status == "fail" and "ECONNREFUSED" in result.summary


def test_no_listener_skips() -> None:
    assert check_localhost(healthy(listeners=[], probes=[])).status == "skip"


def test_fail_outranks_warn_and_evidence_lists_every_listener() -> None:
    listeners = [Listener(6, "::1", 9090, 1, "web"), Listener(4, "10.244.1.5", 8080, 2, "web")]
    facts = healthy(listeners=listeners, probes=_probes(9090, False, True) + _probes(8080, False, False))
    result = check_localhost(facts)
    assert result.status == "fail"
    assert [entry["status"] for entry in result.evidence["listeners"]] == ["warn", "fail"]


def test_a_failed_check_makes_the_verdict_fail_but_a_warning_does_not() -> None:
    macvlan = Interface(3, "net1", "macvlan", 1500, "up", None)
    assert build_report(healthy(interfaces=[LO, eth0(), macvlan])).verdict == "pass"
    assert build_report(healthy(interfaces=[LO])).verdict == "fail"

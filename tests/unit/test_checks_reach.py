"""`pod-ip` and the UDP side of `localhost`: every pass / warn / fail / skip path, facts in, verdicts out."""

from __future__ import annotations

import dataclasses

from kubectl_podnet.checks.reach import check_localhost
from kubectl_podnet.checks.reach import check_pod_ip
from kubectl_podnet.model import DeclaredPort, Listener, NodeFacts, Probe
from kubectl_podnet.node.probe import pod_ip_targets
from tests.factories import healthy

POD_IP = "10.244.1.5"
WEB_PORT = DeclaredPort(8080, "tcp", "web", "containerPort", "http")


def _facts(listeners: list[Listener], pod_ip_probes: list[Probe], declared: list[DeclaredPort] | None = None,
           pod_ips: list[str] | None = None) -> NodeFacts:
    pod = dataclasses.replace(healthy().pod, declared_ports=declared or [],
                              pod_ips=pod_ips if pod_ips is not None else [POD_IP])
    return healthy(pod=pod, listeners=listeners, pod_ip_probes=pod_ip_probes)


def _dial(target: str, port: int, ok: bool, error: str = "ECONNREFUSED") -> Probe:
    return Probe(target, port, ok, None if ok else error, 0.1)


# ---- the probe plan -----------------------------------------------------------------

def test_probe_plan_dials_each_tcp_listener_at_the_pod_ips_of_its_family() -> None:
    listeners = [
        Listener(4, "127.0.0.1", 9090, 1, "web"),
        Listener(6, "::", 8080, 2, "web"),  # a dual-stack socket takes IPv4 too
        Listener(6, "::1", 7070, 3, "web"),
        Listener(4, "0.0.0.0", 53, 4, "dns", "udp"),  # UDP: not dialled
    ]
    assert pod_ip_targets(listeners, ["10.244.1.5", "FD00::5"]) == [
        ("fd00::5", 7070), ("10.244.1.5", 8080), ("fd00::5", 8080), ("10.244.1.5", 9090),
    ]
    assert pod_ip_targets(listeners, ["10.244.1.5"]) == [("10.244.1.5", 8080), ("10.244.1.5", 9090)]


# ---- pod-ip -------------------------------------------------------------------------

def test_listener_answering_at_the_pod_ip_passes() -> None:
    result = check_pod_ip(_facts([Listener(4, "0.0.0.0", 8080, 1, "web")], [_dial(POD_IP, 8080, True)], [WEB_PORT]))
    assert result.status == "pass" and result.summary == "8080/tcp reachable at 10.244.1.5:8080"
    assert result.evidence["declaredPorts"] == ["8080/tcp (containerPort 'http' of web)"]


def test_declared_port_bound_only_to_loopback_fails_with_the_fix() -> None:
    facts = _facts([Listener(4, "127.0.0.1", 8080, 1, "web")], [_dial(POD_IP, 8080, False)], [WEB_PORT])
    result = check_pod_ip(facts)
    assert result.status == "fail"
    assert result.summary.startswith("web 127.0.0.1:8080 is bound only to 127.0.0.1: not reachable at the pod IP "
                                     "(10.244.1.5:8080 ECONNREFUSED); declared 8080/tcp")
    assert result.fix and "bind 0.0.0.0 or [::]" in result.fix


def test_undeclared_localhost_only_port_is_a_note_not_a_failure() -> None:
    facts = _facts([Listener(4, "0.0.0.0", 8080, 1, "web"), Listener(4, "127.0.0.1", 9090, 2, "admin")],
                   [_dial(POD_IP, 8080, True), _dial(POD_IP, 9090, False)], [WEB_PORT])
    result = check_pod_ip(facts)
    assert result.status == "pass"
    assert "admin 127.0.0.1:9090 listens only on 127.0.0.1, not declared in the pod spec" in result.summary
    assert [p["status"] for p in result.evidence["ports"]] == ["pass", "note"]


def test_declared_port_without_a_listener_warns() -> None:
    probe_port = DeclaredPort(8081, "tcp", "web", "readinessProbe")
    facts = _facts([Listener(4, "0.0.0.0", 8080, 1, "web")], [_dial(POD_IP, 8080, True)], [WEB_PORT, probe_port])
    result = check_pod_ip(facts)
    assert result.status == "warn"
    assert result.summary == "declared 8081/tcp (readinessProbe of web) has no TCP listener in the pod"


def test_declared_only_and_nothing_listening_still_warns() -> None:
    result = check_pod_ip(_facts([], [], [WEB_PORT]))
    assert result.status == "warn" and "has no TCP listener" in result.summary


def test_wildcard_listener_that_does_not_answer_fails_when_declared_and_warns_otherwise() -> None:
    listeners = [Listener(4, "0.0.0.0", 8080, 1, "web")]
    timed_out = [_dial(POD_IP, 8080, False, "ETIMEDOUT")]
    declared = check_pod_ip(_facts(listeners, timed_out, [WEB_PORT]))
    assert declared.status == "fail" and "(10.244.1.5:8080 ETIMEDOUT)" in declared.summary
    assert declared.fix and "firewall" in declared.fix
    assert check_pod_ip(_facts(listeners, timed_out)).status == "warn"


def test_ipv6_loopback_listener_in_an_ipv4_pod_is_judged_without_a_probe() -> None:
    declared = DeclaredPort(7070, "tcp", "web", "livenessProbe")
    result = check_pod_ip(_facts([Listener(6, "::1", 7070, 1, "web")], [], [declared]))
    assert result.status == "fail" and "bound only to ::1" in result.summary and "no pod IP of its family" in result.summary


def test_udp_is_judged_from_the_bind_address_and_says_so() -> None:
    dns = DeclaredPort(53, "udp", "dns", "containerPort")
    wildcard = check_pod_ip(_facts([Listener(4, "0.0.0.0", 53, 1, "dns", "udp")], [], [dns]))
    assert wildcard.status == "pass" and "inferred from the bind address, not probed" in wildcard.summary
    loopback = check_pod_ip(_facts([Listener(4, "127.0.0.1", 53, 1, "dns", "udp")], [], [dns]))
    assert loopback.status == "fail" and "inferred from the bind address" in loopback.summary
    undeclared = check_pod_ip(_facts([Listener(4, "127.0.0.1", 53, 1, "dns", "udp")], []))
    assert undeclared.status == "pass" and "(UDP) listens only on 127.0.0.1" in undeclared.summary


def test_tcp_and_udp_on_one_port_are_two_entries() -> None:
    listeners = [Listener(4, "0.0.0.0", 53, 1, "dns"), Listener(4, "127.0.0.1", 53, 2, "dns", "udp")]
    result = check_pod_ip(_facts(listeners, [_dial(POD_IP, 53, True)],
                                 [DeclaredPort(53, "udp", "dns", "containerPort")]))
    assert [(p["protocol"], p["status"]) for p in result.evidence["ports"]] == [("tcp", "pass"), ("udp", "fail")]
    assert result.status == "fail"


def test_host_network_pod_is_dialled_at_its_node_ip() -> None:
    pod = dataclasses.replace(healthy().pod, host_network=True, pod_ips=["192.0.2.10"], declared_ports=[WEB_PORT])
    facts = healthy(pod=pod, listeners=[Listener(4, "0.0.0.0", 8080, 1, "web")],
                    pod_ip_probes=[_dial("192.0.2.10", 8080, True)])
    assert check_pod_ip(facts).summary == "8080/tcp reachable at 192.0.2.10:8080"


def test_no_pod_ip_or_nothing_to_dial_skips() -> None:
    assert check_pod_ip(_facts([Listener(4, "0.0.0.0", 8080, 1, "web")], [], pod_ips=[])).status == "skip"
    assert check_pod_ip(_facts([], [])).status == "skip"


# ---- localhost, UDP -----------------------------------------------------------------

def _udp(address: str, family: int = 4) -> NodeFacts:
    return healthy(listeners=[Listener(family, address, 5353, 1, "mdns", "udp")], probes=[])  # type: ignore[arg-type]


def test_udp_on_a_wildcard_or_127_passes_localhost_as_inferred() -> None:
    for facts in (_udp("0.0.0.0"), _udp("127.0.0.1"), _udp("::", 6)):
        result = check_localhost(facts)
        assert result.status == "pass", result
        assert "UDP 5353" in result.summary and "inferred from the bind address, not probed" in result.summary


def test_udp_only_on_ipv6_loopback_warns_and_only_on_the_pod_ip_fails() -> None:
    v6 = check_localhost(_udp("::1", 6))
    assert v6.status == "warn" and "mdns [::1]:5353/udp reachable only at [::1]:5353" in v6.summary
    pod_only = check_localhost(_udp(POD_IP))
    assert pod_only.status == "fail" and "bound only to 10.244.1.5" in pod_only.summary
    assert "inferred" in pod_only.summary and pod_only.fix


def test_localhost_evidence_keeps_tcp_and_udp_apart() -> None:
    facts = healthy(listeners=[Listener(4, "0.0.0.0", 8080, 1, "web"), Listener(4, "0.0.0.0", 8080, 2, "web", "udp")])
    result = check_localhost(facts)
    assert result.status == "pass"
    assert [(entry["protocol"], entry["port"]) for entry in result.evidence["listeners"]] == [("tcp", 8080),
                                                                                              ("udp", 8080)]

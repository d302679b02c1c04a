"""Reaching the pod's listeners, both ways: `localhost` and `pod-ip`. Pure.

`localhost`: every TCP listener of every container answers over loopback from inside the
pod netns (the agent dialled 127.0.0.1 and ::1 for each port); one bound only to the pod IP,
or to one loopback family, is reported with the fix.

`pod-ip` is its mirror. Kubelet probes, Services and other pods connect to the pod IP,
never to 127.0.0.1, so a listener bound only to loopback is unreachable to them. The agent
dials `podIP:port` from the node's netns (its own) for every TCP listener whose family has
a pod IP (`serves`; the probe plan is the node side's, `node/probe.py`). Ports the pod spec
declares (containerPort, a probe's port) must answer; an undeclared localhost-only port is
only noted, since an admin port on 127.0.0.1 is often deliberate. UDP has no handshake to
probe: both verdicts are inferred from the bind address, and say so.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Literal

from kubectl_podnet.checks.path import NodeFinding, node_route_break
from kubectl_podnet.checks.verdict import Check, Verdict, bracketed, canonical, enter_netns, family_of, worst
from kubectl_podnet.model import DeclaredPort, Listener, NodeFacts, Probe, Status, Transport

FIX_BIND_ALL = (
    "bind 0.0.0.0 or [::] (the kubelet, Services and other pods dial the pod IP, not 127.0.0.1)"
)
_FIX_UNREACHABLE = (
    "the listener is bound to every address but does not answer at the pod IP from the node: "
    "look for a firewall rule or NetworkPolicy dropping node-to-pod traffic, or a server that "
    "refuses non-loopback peers"
)
INFERRED = "inferred from the bind address, not probed: UDP has no handshake"
_FIX_POD_IP = "bind 0.0.0.0 or [::] (or 127.0.0.1 if only the pod itself needs the port)"
_FIX_V6_ONLY = "bind [::] with IPV6_V6ONLY off, or 0.0.0.0 as well, so 127.0.0.1 works too"
_FIX_REFUSED = "the process listens but refuses on loopback: check its own bind and a local firewall in the netns"


def _listener_verdict(listener: Listener, probes: dict[tuple[str, int], Probe]) -> tuple[Status, str, str | None]:
    owner = listener.container or "unknown container"
    where = f"{owner} {bracketed(listener.address, listener.port)}"
    if listener.protocol == "udp":
        return _udp_verdict(listener, f"{where}/udp")
    v4 = probes.get(("127.0.0.1", listener.port))
    v6 = probes.get(("::1", listener.port))
    v4_ok = bool(v4 and v4.ok)
    v6_ok = bool(v6 and v6.ok)
    if v4_ok:
        also = f" and [::1]:{listener.port}" if v6_ok else ""
        return "pass", f"{where} reachable at 127.0.0.1:{listener.port}{also}", None
    if v6_ok:
        return "warn", f"{where} reachable only at [::1]:{listener.port}; clients dialling 127.0.0.1 fail", _FIX_V6_ONLY
    address = ipaddress.ip_address(listener.address)
    if not address.is_unspecified and not address.is_loopback:
        return "fail", f"{where} is bound only to {listener.address}: not reachable over localhost", _FIX_POD_IP
    error = (v4.error if v4 else None) or (v6.error if v6 else None) or "not probed"
    return "fail", f"{where} not reachable over loopback ({error})", _FIX_REFUSED


def _udp_verdict(listener: Listener, where: str) -> tuple[Status, str, str | None]:
    """UDP has no handshake to probe: judge by the bind address, and say so."""
    address = ipaddress.ip_address(listener.address)
    if address.is_unspecified or listener.address == "127.0.0.1":
        return "pass", f"{where} reachable at 127.0.0.1:{listener.port} ({INFERRED})", None
    if listener.address == "::1":
        return "warn", f"{where} reachable only at [::1]:{listener.port}; clients sending to 127.0.0.1 are " \
            f"not heard ({INFERRED})", _FIX_V6_ONLY
    return "fail", f"{where} is bound only to {listener.address}: not reachable at 127.0.0.1 ({INFERRED})", \
        _FIX_POD_IP


def check_localhost(facts: NodeFacts) -> Verdict:
    if not facts.listeners:
        return Verdict("skip", "no TCP or UDP listener in the pod's containers")
    probes = {(p.target, p.port): p for p in facts.probes}
    verdicts = [(_listener_verdict(listener, probes), listener) for listener in facts.listeners]
    evidence = {
        "listeners": [
            {"container": l.container, "protocol": l.protocol, "address": l.address, "port": l.port,
             "status": status, "detail": text}
            for (status, text, _), l in verdicts
        ],
        "probes": [f"{bracketed(p.target, p.port)} {'ok' if p.ok else p.error}" for p in facts.probes],
    }
    status = worst([status for (status, _, _), _ in verdicts])
    if status == "pass":
        tcp = sorted({l.port for l in facts.listeners if l.protocol == "tcp"})
        udp = sorted({l.port for l in facts.listeners if l.protocol == "udp"})
        parts = []
        if tcp:
            parts.append(f"every TCP listener reachable over 127.0.0.1 from the pod netns: "
                         f"{', '.join(str(p) for p in tcp)}")
        if udp:
            parts.append(f"UDP {', '.join(str(p) for p in udp)} bound where 127.0.0.1 reaches ({INFERRED})")
        return Verdict("pass", "; ".join(parts), evidence)
    bad = [(text, fix) for (s, text, fix), _ in verdicts if s == status]
    fixes = list(dict.fromkeys(fix for _, fix in bad if fix))
    return Verdict(status, "; ".join(text for text, _ in bad), evidence, fix="; ".join(fixes))


def serves(listener: Listener, pod_ip: str) -> bool:
    """Can a client reach this listener at `pod_ip`, by the socket's family alone?"""
    family = family_of(pod_ip)
    if listener.family == 4:
        return family == 4
    # an IPv6 socket on [::] also takes IPv4 unless IPV6_V6ONLY (the probe tells)
    return family == 6 or ipaddress.ip_address(listener.address).is_unspecified


def declared_text(port: DeclaredPort) -> str:
    named = f" {port.name!r}" if port.name else ""
    return f"{port.port}/{port.protocol} ({port.source}{named} of {port.container})"


def _bound_to_pod(listener: Listener, pod_ips: set[str]) -> bool:
    address = ipaddress.ip_address(listener.address)
    return address.is_unspecified or canonical(listener.address) in pod_ips


@dataclass(frozen=True)
class _Finding:
    status: Literal["pass", "note", "warn", "fail"]  # a note is a pass worth saying
    text: str
    fix: str | None = None


def _where(listeners: list[Listener]) -> str:
    owners = sorted({l.container or "unknown container" for l in listeners})
    bound = ", ".join(sorted({bracketed(l.address, l.port) for l in listeners}))
    return f"{'/'.join(owners)} {bound}"


def _judge_tcp(port: int, listeners: list[Listener], declared: list[DeclaredPort], pod_ips: set[str],
               probes: dict[tuple[str, int], Probe], broken: NodeFinding | None) -> tuple[_Finding, list[str]]:
    targets = sorted({canonical(ip) for l in listeners for ip in pod_ips if serves(l, ip)})
    dialled = [probes[(ip, port)] for ip in targets if (ip, port) in probes]
    shown = [f"{bracketed(p.target, port)} {'ok' if p.ok else p.error}" for p in dialled]
    where, role = _where(listeners), (f"declared {declared_text(declared[0])}" if declared else "not declared")
    if dialled and all(p.ok for p in dialled) and len(dialled) == len(targets):
        return _Finding("pass", f"{port}/tcp reachable at {', '.join(bracketed(p.target, port) for p in dialled)}"), shown
    failed = [p for p in dialled if not p.ok]
    error = ", ".join(f"{bracketed(p.target, port)} {p.error}" for p in failed) or "no pod IP of its family"
    if not any(_bound_to_pod(l, pod_ips) for l in listeners):
        bound = ", ".join(sorted({l.address for l in listeners}))
        text = f"{where} is bound only to {bound}: not reachable at the pod IP ({error}); {role}"
        if declared:
            return _Finding("fail", text, FIX_BIND_ALL), shown
        return _Finding("note", f"{where} listens only on {bound}, not declared in the pod spec (often a "
                        "deliberate admin port)"), shown
    if not targets:
        return _Finding("note", f"{where}: no pod IP of its family to dial"), shown
    text = f"{where} not reachable at the pod IP from the node ({error}); {role}"
    if broken is not None:  # one story: the node cannot route to the pod at all, so no firewall is to blame
        return _Finding("fail" if declared else "warn", f"{text}: the node has no working route to the pod "
                        "(see routes)", f"restore the node's route to the pod first: {broken.fix}"), shown
    return _Finding("fail" if declared else "warn", text, _FIX_UNREACHABLE), shown


def _judge_udp(port: int, listeners: list[Listener], declared: list[DeclaredPort],
               pod_ips: set[str]) -> _Finding:
    where = _where(listeners)
    if any(_bound_to_pod(l, pod_ips) for l in listeners):
        return _Finding("pass", f"{port}/udp bound to {', '.join(sorted({l.address for l in listeners}))}: "
                        f"reachable at the pod IP ({INFERRED})")
    bound = ", ".join(sorted({l.address for l in listeners}))
    if declared:
        return _Finding("fail", f"{where} is bound only to {bound}: not reachable at the pod IP ({INFERRED}); "
                        f"declared {declared_text(declared[0])}", FIX_BIND_ALL)
    return _Finding("note", f"{where} (UDP) listens only on {bound}, not declared in the pod spec ({INFERRED})")


def check_pod_ip(facts: NodeFacts) -> Verdict:
    pod = facts.pod
    if not pod.pod_ips:
        return Verdict("skip", "no pod IPs given to dial (pass --pod-ip)")
    if not facts.listeners and not pod.declared_ports:
        return Verdict("skip", "no listener in the pod's containers and no port declared in its spec")
    pod_ips = {canonical(ip) for ip in pod.pod_ips}
    probes = {(canonical(p.target), p.port): p for p in facts.pod_ip_probes}
    declared: dict[tuple[Transport, int], list[DeclaredPort]] = {}
    for entry in pod.declared_ports:
        declared.setdefault((entry.protocol, entry.port), []).append(entry)
    by_port: dict[tuple[Transport, int], list[Listener]] = {}
    for listener in facts.listeners:
        by_port.setdefault((listener.protocol, listener.port), []).append(listener)

    broken = node_route_break(facts)
    findings: list[_Finding] = []
    ports: list[dict[str, Any]] = []
    for (protocol, port), listeners in sorted(by_port.items(), key=lambda item: (item[0][1], item[0][0])):
        wanted = declared.get((protocol, port), [])
        shown: list[str] = []
        if protocol == "tcp":
            finding, shown = _judge_tcp(port, listeners, wanted, pod_ips, probes, broken)
        else:
            finding = _judge_udp(port, listeners, wanted, pod_ips)
        findings.append(finding)
        ports.append({"port": port, "protocol": protocol, "containers": sorted({l.container or "" for l in listeners}),
                      "bound": sorted({l.address for l in listeners}), "declared": [declared_text(d) for d in wanted],
                      "probes": shown, "status": finding.status, "detail": finding.text})
    for (protocol, port), wanted in sorted(declared.items(), key=lambda item: (item[0][1], item[0][0])):
        if (protocol, port) not in by_port:
            finding = _Finding("warn", f"declared {declared_text(wanted[0])} has no {protocol.upper()} listener in "
                               "the pod", "start the server, or fix the port in the pod spec")
            findings.append(finding)
            ports.append({"port": port, "protocol": protocol, "containers": [], "bound": [],
                          "declared": [declared_text(d) for d in wanted], "probes": [], "status": "warn",
                          "detail": finding.text})
    evidence = {"podIPs": sorted(pod_ips, key=lambda ip: (family_of(ip), ip)),
                "declaredPorts": [declared_text(d) for d in pod.declared_ports], "ports": ports}
    status = worst(["pass" if f.status == "note" else f.status for f in findings])
    if status == "pass":
        return Verdict("pass", "; ".join(f.text for f in findings), evidence)
    bad = [f for f in findings if f.status == status]
    fixes = list(dict.fromkeys(f.fix for f in bad if f.fix))
    return Verdict(status, "; ".join(f.text for f in bad), evidence, fix="; ".join(fixes) or None)


def _localhost_by_hand(facts: NodeFacts) -> list[str]:
    enter = enter_netns(facts)
    if facts.pod.host_network:
        lines = ["ss -ltnp"]
    else:
        lines = [f"{enter} ss -ltnp   # listeners of every container in the pod",
                 f"{enter} ss -lunp   # UDP sockets bound by the pod (UDP has no listen state: bound and unconnected)"]
    for port in sorted({l.port for l in facts.listeners if l.protocol == "tcp"}):
        lines.append(f"{enter} bash -c 'echo > /dev/tcp/127.0.0.1/{port}' && echo reachable   # port {port}")
    return lines


def _pod_ip_by_hand(facts: NodeFacts) -> list[str]:
    return [f"bash -c 'echo > /dev/tcp/{p.target}/{p.port}' && echo reachable   # from the node: port {p.port} at "
            "the pod IP" for p in facts.pod_ip_probes]


CHECKS = (
    Check("localhost", "every TCP listener of the pod answers over loopback from inside its netns (UDP: judged "
          "from the bind address)", check_localhost, _localhost_by_hand),
    Check("pod-ip", "every port the cluster dials (declared above all) answers at podIP:port from the node's netns",
          check_pod_ip, _pod_ip_by_hand),
)

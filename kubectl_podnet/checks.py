"""The checks of the pod-network model: facts in, verdicts out. Pure.

Each verdict carries the evidence (pids, inodes, ifindexes, addresses, ports) a learner
needs to redo the check by hand, and, when it fails, the fix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from kubectl_podnet.checks_path import check_mtu, check_routes
from kubectl_podnet.checks_reach import INFERRED, check_pod_ip
from kubectl_podnet.cni import family_of
from kubectl_podnet.model import (
    CheckResult,
    ContainerFacts,
    Interface,
    Listener,
    NodeFacts,
    Probe,
    Status,
)
from kubectl_podnet.verdict import Verdict, bracketed, primary_interface, worst

__all__ = ["CHECKS", "CHECK_IDS", "Check", "Verdict", "primary_interface", "run_checks"]


def _netns(inode: int | None) -> str:
    return f"net:[{inode}]" if inode is not None else "unknown"


def check_pause_container(facts: NodeFacts) -> Verdict:
    sandbox = facts.sandbox
    if sandbox.source == "pause-process":
        return Verdict(
            status="pass",
            summary=f"pause pid {sandbox.pid} holds {_netns(sandbox.netns_inode)}",
            evidence={
                "pid": sandbox.pid,
                "containerId": sandbox.container_id,
                "command": sandbox.command,
                "netns": _netns(sandbox.netns_inode),
                "pinnedPath": sandbox.pinned_path,
            },
        )
    if sandbox.source == "pinned-netns":
        return Verdict(
            status="pass",
            summary=f"no pause process; the runtime pinned {_netns(sandbox.netns_inode)} at {sandbox.pinned_path}",
            evidence={"pinnedPath": sandbox.pinned_path, "netns": _netns(sandbox.netns_inode)},
        )
    return Verdict(
        status="fail",
        summary="no pause process in the pod cgroup and no pinned netns shared by its containers",
        evidence={"containers": [c.label for c in facts.containers]},
        fix="check the runtime's sandbox (crictl pods; crictl inspectp POD_ID) and the kubelet log",
    )


def check_shared_netns(facts: NodeFacts) -> Verdict:
    expected: int | None = facts.sandbox.netns_inode
    what = "the sandbox netns"
    if facts.pod.host_network:
        expected, what = facts.node_netns_inode, "the node's netns (hostNetwork)"
    running = [c for c in facts.containers if c.netns_inode is not None]
    missing = [_unchecked(c) for c in facts.containers if c.netns_inode is None and not _finished(c)]
    evidence = {
        "expected": _netns(expected),
        "containers": {c.label: _netns(c.netns_inode) for c in facts.containers},
        "states": {c.label: c.status.text for c in facts.containers if c.status is not None},
    }
    if expected is None:
        return Verdict("fail", "no sandbox netns to compare with", evidence)
    if not running:
        return Verdict("fail", "no running container found on the node", evidence)
    outliers = [c.label for c in running if c.netns_inode != expected]
    if outliers:
        return Verdict(
            status="fail",
            summary=f"{', '.join(outliers)} not in {what} {_netns(expected)}",
            evidence=evidence,
            fix="containers of a pod must join the sandbox netns; check the runtime (a container "
            "started outside CRI, or a runtime bug)",
        )
    names = ", ".join(c.label for c in running)
    summary = f"{names} share {what} {_netns(expected)}"
    if missing:
        return Verdict("warn", summary + f"; not running: {', '.join(missing)}", evidence)
    return Verdict("pass", summary, evidence)


def _finished(container: ContainerFacts) -> bool:
    """An init or ephemeral container that ran and ended: nothing to check, nothing wrong."""
    status = container.status
    return container.role in ("init", "ephemeral") and status is not None and status.state == "terminated"


def _unchecked(container: ContainerFacts) -> str:
    return f"{container.label} ({container.status.text})" if container.status else container.label


def check_shared_ip(facts: NodeFacts) -> Verdict:
    if not facts.pod.pod_ips:
        return Verdict("skip", "no pod IPs given to compare with (pass --pod-ip)")
    wanted = [str(ipaddress.ip_address(ip)) for ip in facts.pod.pod_ips]
    if facts.pod.host_network:
        on_node = {a.address: i.name for i in facts.interfaces for a in i.addresses}
        evidence = {"podIPs": wanted, "found": {ip: on_node.get(ip) for ip in wanted}}
        absent = [ip for ip in wanted if ip not in on_node]
        if absent:
            return Verdict("fail", f"hostNetwork pod IPs {', '.join(absent)} are not node addresses", evidence
            )
        return Verdict("pass", f"hostNetwork: pod IPs are the node's ({', '.join(wanted)})", evidence)
    eth0 = primary_interface(facts.interfaces)
    if eth0 is None:
        return Verdict("fail", "the pod netns has no eth0", {"podIPs": wanted})
    present = {str(ipaddress.ip_address(a.address)): a for a in eth0.addresses}
    evidence = {
        "podIPs": wanted,
        "interface": eth0.name,
        "addresses": [f"{a.address}/{a.prefixlen}" for a in eth0.addresses if a.scope == "global"],
    }
    absent = [ip for ip in wanted if ip not in present]
    if absent:
        return Verdict(
            status="fail",
            summary=f"{', '.join(absent)} not on {eth0.name} in the pod netns",
            evidence=evidence,
            fix="the API's podIPs and the netns disagree: the CNI ADD result was lost or the IP was reassigned",
        )
    shown = ", ".join(f"{ip}/{present[ip].prefixlen}" for ip in wanted)
    return Verdict("pass", f"{shown} on {eth0.name}, one IP per family for every container", evidence)


def _peer_text(interface: Interface, facts: NodeFacts) -> str:
    peer = interface.peer
    if peer is None or peer.name is None:
        return f"{interface.name} (host peer not found)"
    family = family_of(facts.cni)
    if peer.master:
        where = f"on {peer.master_kind or 'master'} {peer.master}"
    elif peer.routes:
        where = f"routed: {', '.join(peer.routes)}"
    elif family.delivery:  # Cilium: no route per pod by default, eBPF on the veth delivers
        where = (f"routed by {family.title}: no route of its own (the node reaches its pods via "
                 f"{', '.join(family.delivery)}, eBPF on {peer.name} delivers)")
    else:
        where = "no bridge, and no route of its own to it (see routes)"
    return f"{interface.name} <-> {peer.name} (host, ifindex {peer.ifindex}) {where}"


def check_single_veth(facts: NodeFacts) -> Verdict:
    if facts.pod.host_network:
        return Verdict("skip", "hostNetwork pod: uses the node's netns, no veth of its own",
            {"netns": _netns(facts.node_netns_inode)},
        )
    veths = [i for i in facts.interfaces if i.kind == "veth"]
    extras = [i for i in facts.interfaces if i.kind not in ("veth", "loopback")]
    evidence = {
        "interfaces": {i.name: i.kind for i in facts.interfaces},
        "veths": [
            {
                "name": i.name,
                "ifindex": i.ifindex,
                "peerIfindex": i.peer.ifindex if i.peer else i.link_ifindex,
                "peerName": i.peer.name if i.peer else None,
                "confirmed": bool(i.peer and i.peer.confirmed),
                "master": i.peer.master if i.peer else None,
                "routes": i.peer.routes if i.peer else [],
            }
            for i in veths
        ],
    }
    if not veths:
        return Verdict("fail", "no veth in the pod netns", evidence,
            fix="the CNI did not wire the pod; check /etc/cni/net.d and the kubelet log",
        )
    primary = primary_interface(facts.interfaces)
    assert primary is not None
    if primary.peer is None or not primary.peer.confirmed:
        reason = primary.peer.reason if primary.peer and primary.peer.reason else "no matching host link"
        return Verdict("fail", f"host peer of {primary.name} not confirmed: {reason}", evidence,
            fix="look for the peer with: ip -d link show | grep -A1 'link-netnsid'",
        )
    others = [i for i in veths if i is not primary] + extras
    declared = {n.interface: n for n in facts.pod.networks if n.interface}
    present = {i.name for i in facts.interfaces}
    if declared:
        evidence["networks"] = [
            {"interface": name, "network": n.network, "declaredIps": n.ips, "present": name in present,
             "kind": next((i.kind for i in facts.interfaces if i.name == name), None),
             "ips": [a.address for i in facts.interfaces if i.name == name for a in i.addresses if a.scope == "global"]}
            for name, n in declared.items()
        ]
    missing = [name for name in declared if name not in present]
    if missing:
        listed = ", ".join(f"{name} ({declared[name].network})" for name in missing)
        return Verdict("fail", f"{_peer_text(primary, facts)}; declared by the network-status annotation but missing "
                       f"from the netns: {listed}", evidence,
                       fix="the CNI of that network failed or the interface was removed: check the Multus log and "
                       "the NetworkAttachmentDefinition, then recreate the pod")
    undeclared = [i for i in others if i.name not in declared]
    expected = [i for i in others if i.name in declared]
    attached = "; networks: " + ", ".join(_attached_text(i, declared[i.name].network) for i in expected) if expected else ""
    if undeclared:
        listed = ", ".join(f"{i.name} ({i.kind})" for i in undeclared)
        return Verdict("warn", f"{_peer_text(primary, facts)}{attached}; extra interfaces: {listed}", evidence,
            fix="extra interfaces come from a meta-plugin (Multus) or a manual change; expected only if "
            "the pod asked for them (k8s.v1.cni.cncf.io/networks), and then listed in its "
            "k8s.v1.cni.cncf.io/network-status annotation",
        )
    return Verdict("pass", _peer_text(primary, facts) + attached, evidence)


def _attached_text(interface: Interface, network: str) -> str:
    ips = " ".join(a.address for a in interface.addresses if a.scope == "global") or "no IP"
    return f"{interface.name} ({interface.kind}, {ips}, network {network})"


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


@dataclass(frozen=True)
class Check:
    id: str  # stable: CI jobs and docs/report.md key on it
    proves: str  # what a pass means, in one line
    judge: Callable[[NodeFacts], Verdict]


# The one registry: ids, their order in every report, and the functions. Everything else
# (the report, renderers, tests, docs, the e2e suite) reads it, never a literal list or count.
CHECKS: tuple[Check, ...] = (
    Check("pause-container", "the sandbox is found: a pause process, or the netns the runtime pinned",
          check_pause_container),
    Check("shared-netns", "every running container is in the sandbox's netns (hostNetwork: the node's)",
          check_shared_netns),
    Check("shared-ip", "every address of status.podIPs is on the pod's eth0", check_shared_ip),
    Check("single-veth", "one veth in the pod netns, its host peer confirmed, on a bridge or routed",
          check_single_veth),
    Check("localhost", "every TCP listener of the pod answers over loopback from inside its netns (UDP: judged "
          "from the bind address)", check_localhost),
    Check("pod-ip", "every port the cluster dials (declared above all) answers at podIP:port from the node's netns",
          check_pod_ip),
    Check("routes", "the pod's default route leaves eth0 via an on-link gateway; the node's route to each pod IP "
          "leaves by the pod's own veth or its bridge", check_routes),
    Check("mtu", "the veth pair agrees on its MTU, and eth0 fits the node uplink minus any overlay overhead",
          check_mtu),
)
CHECK_IDS = tuple(check.id for check in CHECKS)


def run_checks(facts: NodeFacts) -> list[CheckResult]:
    results = []
    for check in CHECKS:
        verdict = check.judge(facts)
        results.append(CheckResult(check.id, verdict.status, verdict.summary, verdict.evidence, verdict.fix))
    return results

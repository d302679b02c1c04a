"""`connect A B` for people: the hop table, the path line, and the manual commands per hop."""

from __future__ import annotations

import textwrap

from kubectl_podnet.checks.verdict import primary_interface
from kubectl_podnet.connect_model import ConnectSide, PodNetConnect

_STATUS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def _who(side: ConnectSide, node_ip: str | None) -> str:
    pod = side.report.pod
    ips = ", ".join(pod.pod_ips) or "no IP"
    where = f"{pod.node} {node_ip}" if node_ip else (pod.node or "?")
    return f"{pod.namespace}/{pod.name} ({ips} on {where})"


def render_connect(report: PodNetConnect, width: int = 100) -> str:
    lines = [f"Connect {_who(report.source, report.source_node_ip)} -> {_who(report.target, report.target_node_ip)}",
             ""]
    node_width = max([4] + [len(h.node or "-") for h in report.hops])
    head = f"{'HOP'.ljust(10)}  {'NODE'.ljust(node_width)}  STATUS  "
    lines.append(head + "DETAIL")
    indent = " " * len(head)
    detail_width = max(20, width - len(indent))
    for hop in report.hops:
        wrapped = textwrap.wrap(hop.detail, detail_width, break_on_hyphens=False) or [""]
        lines.append(f"{hop.id.ljust(10)}  {(hop.node or '-').ljust(node_width)}  {_STATUS[hop.status].ljust(6)}  "
                     f"{wrapped[0]}")
        lines += [indent + rest for rest in wrapped[1:]]
        if hop.fix and hop.status in ("fail", "warn"):
            lines += [indent + line for line in textwrap.wrap(f"fix: {hop.fix}", detail_width, break_on_hyphens=False)]
    lines += ["", "Path:"] + textwrap.wrap(report.path, width - 2, initial_indent="  ", subsequent_indent="    ",
                                           break_on_hyphens=False)
    counts = {s: sum(1 for h in report.hops if h.status == s) for s in _STATUS}
    lines += ["", f"Verdict: {report.verdict.upper()} ({counts['pass']} passed, {counts['warn']} warnings, "
              f"{counts['fail']} failed, {counts['skip']} skipped)"]
    return "\n".join(lines) + "\n"


def connect_commands(report: PodNetConnect) -> list[str]:
    """The commands that redo each hop by hand, on the node named before each group."""
    a, b = report.source, report.target
    a_pid, b_pid = a.report.sandbox.pid or "PAUSE_PID", b.report.sandbox.pid or "PAUSE_PID"
    b_ip = next(iter(b.report.pod.pod_ips), "B_IP")
    a_ip = next(iter(a.report.pod.pod_ips), "A_IP")
    port = b.accepted and a.dials[0].port if a.dials else "PORT"
    lines = [f"# a-egress, on {a.report.pod.node}: A's own route and its next hop",
             f"nsenter -t {a_pid} -n ip route get {b_ip}", f"nsenter -t {a_pid} -n ip neigh",
             f"# a-forward, on {a.report.pod.node}: the node routes A's packet as it arrives",
             f"ip route get {b_ip} from {a_ip} iif {a.iif or 'VETH'}",
             f"sysctl net.ipv4.ip_forward net.ipv4.conf.all.rp_filter net.ipv4.conf.{a.iif or 'VETH'}.rp_filter",
             "iptables-save -c | grep -E '^:(FORWARD|INPUT)|-j (DROP|REJECT|MASQUERADE|SNAT)'"]
    if not report.same_node:
        tunnel = a.tunnel
        if tunnel is not None:
            lines += [f"# overlay, on {a.report.pod.node}: the tunnel and where its FDB sends B's node",
                      f"ip -d link show {tunnel.name}", f"ip neigh show dev {tunnel.name}",
                      f"bridge fdb show dev {tunnel.name}"]
        lines += [f"# overlay, on {b.report.pod.node}: does it arrive?",
                  f"tcpdump -ni {next((c.device for c in b.captures if c.what == 'encapsulated'), 'eth0')} "
                  f"{'udp port ' + str(tunnel.port) if tunnel and tunnel.port else 'host ' + b_ip}",
                  f"# b-deliver, on {b.report.pod.node}", f"ip route get {b_ip} from {a_ip} iif {b.iif or 'DEV'}"]
    eth0 = primary_interface(a.report.interfaces)
    mtu = eth0.mtu if eth0 else 1500
    lines += [f"# connection: a listener in B, a client in A (no SNAT: B sees {a_ip})",
              f"nsenter -t {b_pid} -n nc -l -p {port}", f"nsenter -t {a_pid} -n nc {b_ip} {port}",
              f"# mtu: DF set at A's MTU ({mtu})", f"nsenter -t {a_pid} -n ping -c 2 -M do -s {mtu - 28} {b_ip}"]
    return lines

"""The report for people: a check table and a topology line, plain text at a fixed width.

No colour and no terminal probing here, so the output is byte-stable and tested as
exact strings; the CLI decides the width.
"""

from __future__ import annotations

import textwrap

from kubectl_podnet.checks.path import overlays_on_path
from kubectl_podnet.checks.verdict import primary_interface
from kubectl_podnet.cni import describe
from kubectl_podnet.model import PodNetReport

_STATUS = {"pass": "PASS", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}


def _pod_title(report: PodNetReport) -> str:
    pod = report.pod
    name = f"{pod.namespace}/{pod.name}" if pod.name else f"uid {pod.uid}"
    node = f" on node {pod.node}" if pod.node else ""
    mode = " (hostNetwork)" if pod.host_network else ""
    return f"Pod {name}{node}{mode}"


def render_table(report: PodNetReport, width: int = 100) -> list[str]:
    id_width = max(len(c.id) for c in report.checks)
    indent = " " * (id_width + 2 + len("STATUS") + 2)
    detail_width = max(20, width - len(indent))
    lines = [f"{'CHECK'.ljust(id_width)}  STATUS  DETAIL"]
    for check in report.checks:
        detail = textwrap.wrap(check.summary, detail_width) or [""]
        if check.fix and check.status in ("fail", "warn"):
            detail += textwrap.wrap(f"fix: {check.fix}", detail_width)
        lines.append(f"{check.id.ljust(id_width)}  {_STATUS[check.status]:<6}  {detail[0]}")
        lines += [indent + more for more in detail[1:]]
    return lines


def topology_steps(report: PodNetReport) -> list[str]:
    """The path from the containers to the node, as the pieces of one picture."""
    # the containers in the picture are those with a process in the netns; the others are in shared-netns
    names = ", ".join(c.label for c in report.containers if c.pids) or "(no running container)"
    sandbox = report.sandbox
    holder = {
        "pause-process": f"(pause pid {sandbox.pid})",
        "pinned-netns": f"(pinned at {sandbox.pinned_path}, no pause)",
        "none": "(no sandbox found)",
    }[sandbox.source]
    if report.pod.host_network:
        return [f"containers {names}", f"node netns net:[{report.node_netns_inode}] {holder}",
                "node interfaces (hostNetwork: no veth of its own)"]
    steps = [f"containers {names}", f"netns net:[{sandbox.netns_inode}] {holder}"]
    eth0 = primary_interface(report.interfaces)
    if eth0 is None:
        return steps + ["(no veth)"]
    addresses = " ".join(f"{a.address}/{a.prefixlen}" for a in eth0.addresses if a.scope == "global")
    steps.append(f"{eth0.name} {addresses} mtu {eth0.mtu}".replace("  ", " "))
    peer = eth0.peer
    if peer is None or peer.name is None:
        return steps + ["<-veth pair-> (host peer not found)"]
    differs = f", mtu {peer.mtu}" if peer.mtu is not None and peer.mtu != eth0.mtu else ""
    steps.append(f"<-veth pair-> {peer.name} (host{differs})")
    if peer.master:
        steps.append(f"{peer.master} ({peer.master_kind})")
    elif peer.routes:
        steps.append(f"routed ({', '.join(peer.routes)})")
    else:  # no route of its own: the node's lookup says what it goes by (Cilium: cilium_host)
        via = sorted({lookup.dev for lookup in report.node_routes if lookup.dev and lookup.dev != peer.name})
        if via:
            steps.append(f"routed via {', '.join(via)}")
    steps += [f"{o.kind} {o.name} (mtu {o.mtu})" for o in overlays_on_path(report, eth0)]
    if report.uplink:
        steps.append(f"uplink {report.uplink.name} (mtu {report.uplink.mtu})")
    networks = {n.interface: n.network for n in report.pod.networks if n.interface}
    extras = [i for i in report.interfaces if i.kind not in ("loopback",) and i is not eth0]
    if extras:
        steps.append("also: " + ", ".join(
            f"{i.name} ({i.kind}, network {networks[i.name]})" if i.name in networks else f"{i.name} ({i.kind})"
            for i in extras
        ))
    return steps


def render_topology(report: PodNetReport, width: int = 100) -> list[str]:
    lines: list[str] = []
    current = ""
    for step in topology_steps(report):
        joiner = "" if not current else (" " if step.startswith("<-") else " -> ")
        if current and len(current) + len(joiner) + len(step) > width:
            lines.append(current)
            current = "    " + ("" if step.startswith("<-") else "-> ") + step
        else:
            current += joiner + step
    lines.append(current)
    return lines


def render_text(report: PodNetReport, width: int = 100) -> str:
    counts = {status: sum(1 for c in report.checks if c.status == status) for status in _STATUS}
    lines = [_pod_title(report), ""]
    lines += render_table(report, width)
    lines += ["", "Topology:"] + ["  " + line for line in render_topology(report, width - 2)]
    if report.cni is not None and not report.pod.host_network:
        said = f"  CNI: {describe(report.cni)}" + (f", from {'; '.join(report.cni.evidence)}" if report.cni.evidence
                                                  else "")
        lines += textwrap.wrap(said, width, subsequent_indent="    ", break_on_hyphens=False)
    lines += [f"  note: {note}" for note in report.notes]
    lines += [
        "",
        f"Verdict: {report.verdict.upper()} ({counts['pass']} passed, {counts['warn']} warnings, "
        f"{counts['fail']} failed, {counts['skip']} skipped)",
    ]
    return "\n".join(lines) + "\n"

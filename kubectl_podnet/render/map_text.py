"""The node map for people: a top-down tree, like the learner's picture
`eth0 -> docker0 (bridge) -> veth (host) <-pair-> veth (container) -> container`.

`scene()` groups the map the way the kernel wires it (uplink, bridges and their ports,
routed veths, macvlans, hostNetwork pods, pods wired to nothing, the other links); the
text, Graphviz and Mermaid renderers all draw that one grouping. Pure, no terminal
probing: the CLI picks the width and box-drawing or ASCII, so tests pin exact strings.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from kubectl_podnet.checks.nodemap import failed_checks, pod_label, primary_of
from kubectl_podnet.cni import family_of
from kubectl_podnet.model import Address, HostLink, PodNetNodeMap, PodNetReport, Wire


@dataclass(frozen=True)
class Attached:
    """One pod interface at the end of a host link."""

    wire: Wire
    report: PodNetReport
    primary: bool  # the pod's own eth0: its details are drawn here


@dataclass(frozen=True)
class Port:
    link: HostLink
    pods: list[Attached] = field(default_factory=list)


@dataclass(frozen=True)
class Scene:
    uplink: HostLink | None
    bridges: list[tuple[HostLink, list[Port]]]
    routed: list[Port]  # pod veths with no bridge: the node routes to them
    macvlans: list[Port]  # a parent link and the pod links on it
    host_network: list[PodNetReport]
    unwired: list[PodNetReport]
    others: list[HostLink]


def scene(node_map: PodNetNodeMap) -> Scene:
    by_uid = {report.pod.uid: report for report in node_map.pods}
    attached: dict[int, list[Attached]] = {}
    macvlan_parents: dict[int, list[Attached]] = {}
    for wire in node_map.wires:
        report = by_uid[wire.pod_uid]
        item = Attached(wire, report, wire.pod_interface == primary_of(report))
        (attached if wire.kind == "veth" else macvlan_parents).setdefault(wire.host_ifindex, []).append(item)
    links = node_map.host.links
    bridge_names = {link.name for link in links if link.kind == "bridge"}
    used: set[int] = set()
    bridges = []
    for bridge in (link for link in links if link.kind == "bridge"):
        ports = [Port(link, attached.get(link.ifindex, [])) for link in links if link.master == bridge.name]
        used.update([bridge.ifindex] + [port.link.ifindex for port in ports])
        bridges.append((bridge, ports))
    routed = [Port(link, attached[link.ifindex]) for link in links
              if link.ifindex in attached and link.master not in bridge_names]
    used.update(port.link.ifindex for port in routed)
    macvlans = [Port(link, macvlan_parents[link.ifindex]) for link in links if link.ifindex in macvlan_parents]
    uplink = next((link for link in links if link.name == node_map.host.uplink), None)
    if uplink is not None:
        used.add(uplink.ifindex)
    wired = {wire.pod_uid for wire in node_map.wires}
    return Scene(
        uplink=uplink,
        bridges=bridges,
        routed=routed,
        macvlans=macvlans,
        host_network=[r for r in node_map.pods if r.pod.host_network],
        unwired=[r for r in node_map.pods if not r.pod.host_network and r.pod.uid not in wired],
        others=[link for link in links if link.ifindex not in used and link.ifindex not in macvlan_parents],
    )


# ---- words shared by every renderer -------------------------------------------------------


def addresses(items: list[Address]) -> str:
    return " ".join(f"{a.address}/{a.prefixlen}" for a in items if a.scope == "global")


def verdict_text(report: PodNetReport) -> str:
    failed = failed_checks(report)
    if failed:
        return f"FAIL ({', '.join(failed)})"
    warned = [check.id for check in report.checks if check.status == "warn"]
    return f"PASS (warn: {', '.join(warned)})" if warned else "PASS"


def sandbox_text(report: PodNetReport) -> str:
    sandbox = report.sandbox
    if sandbox.source == "pause-process":
        return f"pause pid {sandbox.pid}"
    if sandbox.source == "pinned-netns":
        return f"no pause, netns pinned at {sandbox.pinned_path}"
    return "no sandbox found"


def containers_text(report: PodNetReport) -> str:
    """The containers, each one not in the pod's netns called out."""
    home = report.node_netns_inode if report.pod.host_network else report.sandbox.netns_inode
    names = []
    for container in report.containers:
        if container.netns_inode is None:
            names.append(f"{container.label} (not running)")
        elif home is not None and container.netns_inode != home:
            names.append(f"{container.label} (own netns net:[{container.netns_inode}])")
        else:
            names.append(container.label)
    return "containers " + (", ".join(names) or "(none running)")


def interface_text(report: PodNetReport, name: str) -> str:
    interface = next((i for i in report.interfaces if i.name == name), None)
    shown = addresses(interface.addresses) if interface is not None else ""
    return f"{name} {shown}".rstrip()


def link_text(link: HostLink, role: str | None = None) -> str:
    kind = f"{role}, {link.kind}" if role else link.kind
    text = f"{link.name} ({kind}) {addresses(link.addresses)}".rstrip()
    return text


def paths_text(report: PodNetReport) -> str:
    """Where the pod can go and where it can be reached: its default route and its listeners."""
    parts = []
    if not report.pod.host_network:
        default = next((r for r in report.routes if r.dst == "default" and r.family == 4), None) or next(
            (r for r in report.routes if r.dst == "default"), None)
        parts.append(f"default via {default.gateway or default.dev}" if default else "no default route")
    listening = [f"{l.container or '?'} {'[' + l.address + ']' if l.family == 6 else l.address}:{l.port}"
                 for l in report.listeners]
    if listening:
        parts.append("listening " + ", ".join(listening))
    return " · ".join(parts)


def pod_details(report: PodNetReport) -> str:
    netns = report.node_netns_inode if report.pod.host_network else report.sandbox.netns_inode
    return f"{containers_text(report)} · {sandbox_text(report)} · netns net:[{netns}]"


# ---- the text tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Glyphs:
    tee: str
    last: str
    pipe: str
    blank: str
    dot: str


BOX = Glyphs(tee="├─ ", last="└─ ", pipe="│  ", blank="   ", dot="·")
ASCII = Glyphs(tee="|- ", last="`- ", pipe="|  ", blank="   ", dot="-")


@dataclass(frozen=True)
class Branch:
    lines: list[str]  # the first is the node's title, the rest its details (indented)
    children: list[Branch] = field(default_factory=list)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(20, width), subsequent_indent="  ", break_on_hyphens=False) or [""]


def draw(branch: Branch, glyphs: Glyphs, width: int, first: str = "", rest: str = "") -> list[str]:
    """The branch and its children, every line within `width` (long words aside)."""
    out: list[str] = []
    for number, line in enumerate(branch.lines):
        for part_number, part in enumerate(_wrap(line, width - len(rest))):
            lead = first if number == 0 and part_number == 0 else rest
            out.append(lead + part)
    for index, child in enumerate(branch.children):
        last = index == len(branch.children) - 1
        out += draw(child, glyphs, width, rest + (glyphs.last if last else glyphs.tee),
                    rest + (glyphs.blank if last else glyphs.pipe))
    return out


def _attached_lines(item: Attached, dot: str) -> list[str]:
    report, wire = item.report, item.wire
    pair = "<-veth pair->" if wire.kind == "veth" else f"<-{wire.kind} on this link->"
    title = f"{pair} {interface_text(report, wire.pod_interface)} {dot} pod {pod_label(report)}"
    if not item.primary:
        return [f"{title} (its {primary_of(report) or 'details'} is drawn elsewhere)"]
    lines = [f"{title} {dot} {verdict_text(report)}", "  " + pod_details(report).replace("·", dot)]
    paths = paths_text(report)
    return lines + (["  " + paths.replace("·", dot)] if paths else [])


def _port(port: Port, dot: str, role: str = "host") -> Branch:
    head = f"{port.link.name} ({role})"
    if port.link.routes and role == "host":
        head += f" {dot} routes {', '.join(port.link.routes)}"
    if not port.pods:
        return Branch([f"{head} {dot} no pod found behind it"])
    lines = [head]
    for item in port.pods:
        lines += _attached_lines(item, dot)
    return Branch(lines)


def _pod_branch(report: PodNetReport, dot: str, why: str) -> Branch:
    lines = [f"pod {pod_label(report)} {dot} {verdict_text(report)}",
             f"  {why} {dot} " + pod_details(report).replace("·", dot)]
    paths = paths_text(report)
    return Branch(lines + (["  " + paths.replace("·", dot)] if paths else []))


def _loose_title(node_map: PodNetNodeMap) -> str:
    """Veths with no bridge and no route of their own: what that means depends on the node's CNI."""
    family = family_of(next((r.cni for r in node_map.pods if r.cni is not None), None))
    if family.delivery:  # Cilium: the normal shape
        return (f"veths {family.title} delivers to by eBPF (no route per pod: the node reaches them via "
                f"{', '.join(family.delivery)})")
    if family.name in ("calico", "aws-vpc", "azure", "kindnet", "ptp"):  # a routed CNI: the pod's route is gone
        return f"veths with no bridge and no route ({family.title} routes each pod: see routes)"
    return "veths with no bridge and no route (an extra network, e.g. Multus)"


def tree(node_map: PodNetNodeMap, glyphs: Glyphs = BOX) -> list[Branch]:
    """The header line's branch: the uplink at the top, everything the node wires below it."""
    found = scene(node_map)
    dot = glyphs.dot
    children: list[Branch] = []
    for bridge, ports in found.bridges:
        children.append(Branch([link_text(bridge)], [_port(port, dot) for port in ports]))
    routed = [port for port in found.routed if port.link.routes]
    if routed:
        children.append(Branch(["routed veths (no bridge: a host route per pod)"],
                               [_port(port, dot) for port in routed]))
    loose = [port for port in found.routed if not port.link.routes]
    if loose:
        children.append(Branch([_loose_title(node_map)], [_port(port, dot) for port in loose]))
    for port in found.macvlans:
        children.append(_port(port, dot, role=f"parent of {port.pods[0].wire.kind}"))
    if found.host_network:
        children.append(Branch([f"node netns net:[{node_map.host.netns_inode}] (hostNetwork pods: no veth)"],
                               [_pod_branch(r, dot, "shares the node's interfaces") for r in found.host_network]))
    if found.unwired:
        children.append(Branch(["not wired to the node (no confirmed veth peer here)"],
                               [_pod_branch(r, dot, _unwired_why(r)) for r in found.unwired]))
    if found.others:
        children.append(Branch(["other links: " + ", ".join(f"{link.name} ({link.kind})" for link in found.others)]))
    uplink = found.uplink
    gateway = f" {dot} default via {node_map.host.gateway}" if node_map.host.gateway else ""
    top = link_text(uplink, "uplink") + gateway if uplink is not None else "(no default route: no uplink)"
    return [Branch([top], children)]


def _unwired_why(report: PodNetReport) -> str:
    kinds = [i.kind for i in report.interfaces if i.kind != "loopback"]
    return "only lo in its netns" if not kinds else "interfaces " + ", ".join(
        f"{i.name} ({i.kind})" for i in report.interfaces if i.kind != "loopback")


def header(node_map: PodNetNodeMap, dot: str = "·") -> str:
    total = len(node_map.pods)
    failing = sum(1 for report in node_map.pods if report.verdict == "fail")
    name = node_map.node or "(this node)"
    text = f"Node {name} {dot} netns net:[{node_map.host.netns_inode}] {dot} {total} pod{'s' * (total != 1)}"
    text += f", {failing} failing" if failing else ""
    return text + (f", {len(node_map.errors)} not inspected" if node_map.errors else "")


def render_map_text(node_map: PodNetNodeMap, width: int = 100, ascii_only: bool = False) -> str:
    glyphs = ASCII if ascii_only else BOX
    lines = _wrap(header(node_map, glyphs.dot), width)
    for branch in tree(node_map, glyphs):
        lines += draw(branch, glyphs, width)
    for error in node_map.errors:
        who = f"{error.namespace}/{error.name}" if error.namespace else error.name
        lines += _wrap(f"not inspected: {who}: {error.message}", width)
    return "\n".join(lines) + "\n"

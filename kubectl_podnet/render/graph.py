"""The node map as a graph: Graphviz `dot` and Mermaid (renders in GitHub Markdown).

Both are drawn from one neutral graph built from the text tree's `scene()`, so the
three pictures never disagree: the node's netns as one box (uplink, bridges, host
veths), each pod's netns as its own box (its interfaces and containers), and the edges
the kernel has (bridge ports, veth pairs, routes, a macvlan's parent). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubectl_podnet.checks.nodemap import pod_label
from kubectl_podnet.model import HostLink, PodNetNodeMap, PodNetReport
from kubectl_podnet.render.map_text import (
    containers_text,
    header,
    interface_text,
    link_text,
    paths_text,
    sandbox_text,
    scene,
    verdict_text,
)


@dataclass(frozen=True)
class Vertex:
    id: str
    label: list[str]  # lines


@dataclass
class Box:
    id: str
    label: str
    vertices: list[Vertex] = field(default_factory=list)
    failing: bool = False


@dataclass(frozen=True)
class Edge:
    tail: str
    head: str
    label: str | None
    style: str  # "link" (solid), "pair" (both ways), "route" (dashed)


@dataclass
class Graph:
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def build_graph(node_map: PodNetNodeMap) -> Graph:
    found = scene(node_map)
    graph = Graph()
    node_box = Box("node", header(node_map))
    graph.boxes.append(node_box)
    host_ids: dict[int, str] = {}

    def host(link: HostLink, text: str) -> str:
        if link.ifindex not in host_ids:
            host_ids[link.ifindex] = f"h{link.ifindex}"
            node_box.vertices.append(Vertex(host_ids[link.ifindex], [text]))
        return host_ids[link.ifindex]

    uplink = host(found.uplink, link_text(found.uplink, "uplink")) if found.uplink is not None else None
    pod_boxes: dict[str, Box] = {}

    def pod_box(report: PodNetReport) -> Box:
        uid = report.pod.uid
        if uid not in pod_boxes:
            number = len(pod_boxes) + 1
            netns = report.node_netns_inode if report.pod.host_network else report.sandbox.netns_inode
            box = Box(f"pod{number}", f"pod {pod_label(report)} · {verdict_text(report)}",
                      failing=report.verdict == "fail")
            paths = paths_text(report)
            box.vertices.append(Vertex(f"pod{number}c", [containers_text(report),
                                                         f"{sandbox_text(report)} · netns net:[{netns}]"]
                                       + ([paths] if paths else [])))
            pod_boxes[uid] = box
            graph.boxes.append(box)
        return pod_boxes[uid]

    def pod_interface(report: PodNetReport, name: str) -> str:
        box = pod_box(report)
        vertex_id = f"{box.id}_{name}".replace("-", "_").replace(".", "_")
        if all(v.id != vertex_id for v in box.vertices):
            box.vertices.insert(len(box.vertices) - 1, Vertex(vertex_id, [interface_text(report, name)]))
            graph.edges.append(Edge(vertex_id, f"{box.id}c", None, "link"))
        return vertex_id

    for bridge, ports in found.bridges:
        bridge_id = host(bridge, link_text(bridge))
        if uplink is not None:
            graph.edges.append(Edge(uplink, bridge_id, "routes", "route"))
        for port in ports:
            port_id = host(port.link, f"{port.link.name} (host veth)")
            graph.edges.append(Edge(bridge_id, port_id, "port", "link"))
            for item in port.pods:
                graph.edges.append(Edge(port_id, pod_interface(item.report, item.wire.pod_interface), "veth pair",
                                        "pair"))
    for port in found.routed:
        routes = ", ".join(port.link.routes)
        port_id = host(port.link, f"{port.link.name} (host veth)")
        if uplink is not None:
            graph.edges.append(Edge(uplink, port_id, f"route {routes}" if routes else "no route", "route"))
        for item in port.pods:
            graph.edges.append(Edge(port_id, pod_interface(item.report, item.wire.pod_interface), "veth pair", "pair"))
    for port in found.macvlans:
        parent = host(port.link, link_text(port.link))
        for item in port.pods:
            graph.edges.append(Edge(parent, pod_interface(item.report, item.wire.pod_interface), item.wire.kind,
                                    "link"))
    for report in found.host_network:
        box = pod_box(report)
        if uplink is not None:
            graph.edges.append(Edge(uplink, f"{box.id}c", "hostNetwork: the node's netns", "route"))
    for report in found.unwired:
        pod_box(report)
    return graph


# ---- Graphviz ------------------------------------------------------------------------------


_DOT_NEWLINE = "\\n"  # dot's own line break inside a label


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def render_dot(node_map: PodNetNodeMap) -> str:
    graph = build_graph(node_map)
    out = ["digraph podnet {", "  rankdir=TB;", '  node [shape=box, fontname="monospace", fontsize=10];',
           '  edge [fontname="monospace", fontsize=9];']
    for box in graph.boxes:
        colour = " color=red;" if box.failing else ""
        out.append(f"  subgraph cluster_{box.id} {{")
        out.append(f'    label="{_dot_text(box.label)}"; style=rounded;{colour}')
        for vertex in box.vertices:
            text = _DOT_NEWLINE.join(_dot_text(line) for line in vertex.label)
            out.append(f'    {vertex.id} [label="{text}"];')
        out.append("  }")
    for edge in graph.edges:
        attributes = {"pair": ", dir=both", "route": ", style=dashed", "link": ""}[edge.style]
        label = f'label="{_dot_text(edge.label)}"' if edge.label else 'label=""'
        out.append(f"  {edge.tail} -> {edge.head} [{label}{attributes}];")
    out.append("}")
    return "\n".join(out) + "\n"


# ---- Mermaid -------------------------------------------------------------------------------


def _mermaid_text(text: str) -> str:
    return text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def render_mermaid(node_map: PodNetNodeMap) -> str:
    graph = build_graph(node_map)
    out = ["flowchart TD"]
    for box in graph.boxes:
        out.append(f'  subgraph {box.id}["{_mermaid_text(box.label)}"]')
        for vertex in box.vertices:
            out.append(f'    {vertex.id}["{"<br/>".join(_mermaid_text(line) for line in vertex.label)}"]')
        out.append("  end")
    arrows = {"pair": "<-->", "route": "-.->", "link": "-->"}
    for edge in graph.edges:
        arrow = arrows[edge.style]
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"  {edge.tail} {arrow}{label} {edge.head}")
    failing = [box.id for box in graph.boxes if box.failing]
    if failing:
        out.append("  classDef fail stroke:#c00,stroke-width:2px")
        out.append(f"  class {','.join(failing)} fail")
    return "\n".join(out) + "\n"

"""The node map's output formats: one table, each format named once, and `--svg`.

The map has formats a report has not (Graphviz, Mermaid), so it keeps its own table
beside `output.py`'s; both structured formats are the same JSON/YAML writers.
"""

from __future__ import annotations

import enum
import shutil
import subprocess
import sys
from collections.abc import Callable

from kubectl_podnet.errors import ExitStatus, UsageError
from kubectl_podnet.model import PodNetNodeMap


class MapFormat(str, enum.Enum):
    text = "text"
    json = "json"
    yaml = "yaml"
    dot = "dot"
    mermaid = "mermaid"


# a map, the terminal width, box-drawing allowed -> the text to print
MapRenderer = Callable[[PodNetNodeMap, int, bool], str]


def _map_renderers() -> dict[MapFormat, MapRenderer]:
    """Every MapFormat has exactly one entry (a test holds it)."""
    from kubectl_podnet.render import graph, map_text, structured
    from kubectl_podnet.serde import to_json

    return {
        MapFormat.text: lambda m, width, box: map_text.render_map_text(m, width, ascii_only=not box),
        MapFormat.json: lambda m, width, box: structured.render_json_doc(to_json(m)),
        MapFormat.yaml: lambda m, width, box: structured.render_yaml_doc(to_json(m)),
        MapFormat.dot: lambda m, width, box: graph.render_dot(m),
        MapFormat.mermaid: lambda m, width, box: graph.render_mermaid(m),
    }


def render_map(node_map: PodNetNodeMap, output: MapFormat, width: int, box: bool) -> str:
    return _map_renderers()[output](node_map, width, box)


def box_drawing_allowed(ascii_flag: bool) -> bool:
    """Box-drawing characters only on a terminal whose encoding can show them."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return not ascii_flag and sys.stdout.isatty() and encoding in ("utf8", "utf16", "utf32")


def write_svg(node_map: PodNetNodeMap, path: str) -> None:
    """Render the Graphviz picture to `path` with `dot -Tsvg`, or say plainly why not."""
    from kubectl_podnet.render.graph import render_dot

    dot = shutil.which("dot")
    if dot is None:
        raise UsageError("--svg needs Graphviz's `dot`, which is not installed here (apt-get install graphviz); "
                         "`-o dot` prints the graph to render elsewhere")
    done = subprocess.run([dot, "-Tsvg", "-o", path], input=render_dot(node_map), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise UsageError(f"dot -Tsvg -o {path} failed: {done.stderr.strip()[:300]}")


def map_status(node_map: PodNetNodeMap) -> ExitStatus:
    """The worst of the pods: 3 if one could not be inspected, 1 if one failed a check, else 0."""
    if node_map.errors:
        return ExitStatus.CLUSTER
    return max((ExitStatus.of_verdict(r.verdict) for r in node_map.pods), default=ExitStatus.OK)


def emit_map(node_map: PodNetNodeMap, output: MapFormat, ascii_flag: bool, svg: str | None,
             width: int) -> ExitStatus:
    if svg:
        write_svg(node_map, svg)
    sys.stdout.write(render_map(node_map, output, width, box_drawing_allowed(ascii_flag)))
    if svg:
        sys.stderr.write(f"wrote {svg}\n")
    return map_status(node_map)

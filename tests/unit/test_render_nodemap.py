"""The node map's renderers as exact strings: the text tree (box-drawing and ASCII, at fixed
widths), Graphviz and Mermaid; and Graphviz and Mermaid's own parsers accept what we print."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kubectl_podnet.render.graph import render_dot, render_mermaid
from kubectl_podnet.render.map_text import render_map_text
from tests.mapfactories import sample_map

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
MERMAID = Path(__file__).resolve().parents[1] / "mermaid"

BOX_100 = """\
Node kind-worker · netns net:[4026531840] · 5 pods, 1 failing, 1 not inspected
ens3 (uplink, device) 192.168.1.20/24 · default via 192.168.1.1
├─ cni0 (bridge) 10.244.1.1/24
│  ├─ veth3a1f09c2 (host)
│  │  <-veth pair-> eth0 10.244.1.5/24 · pod default/web · PASS
│  │    containers web, sidecar · pause pid 4711 · netns net:[4026532181]
│  │    default via 10.244.1.1 · listening web 0.0.0.0:8080
│  ├─ veth99cc22dd (host)
│  │  <-veth pair-> eth0 10.244.1.7/24 · pod shop/multi · PASS (warn: single-veth)
│  │    containers multi · pause pid 6000 · netns net:[4026532400]
│  │    default via 10.244.1.1
│  └─ vethdeadbeef (host) · no pod found behind it
├─ routed veths (no bridge: a host route per pod)
│  └─ veth77aa11bb (host) · routes 10.244.1.6/32
│     <-veth pair-> eth0 10.244.1.6/24 · pod default/api · PASS (warn: routes)
│       containers api · pause pid 5000 · netns net:[4026532300]
│       default via 10.244.1.1
├─ veths with no bridge and no route (an extra network, e.g. Multus)
│  └─ mveth99cc (host)
│     <-veth pair-> net2 · pod shop/multi (its eth0 is drawn elsewhere)
├─ ens3 (parent of macvlan)
│  <-macvlan on this link-> net1 192.168.1.50/24 · pod shop/multi (its eth0 is drawn elsewhere)
├─ node netns net:[4026531840] (hostNetwork pods: no veth)
│  └─ pod kube-system/agent · PASS
│       shares the node's interfaces · containers agent · pause pid 7000 · netns net:[4026531840]
├─ not wired to the node (no confirmed veth peer here)
│  └─ pod shop/isolated · FAIL (shared-netns, single-veth, routes)
│       only lo in its netns · containers job, stray (own netns net:[4026532555]) · pause pid 8000 ·
│       netns net:[4026532500]
│       no default route
└─ other links: lo (loopback)
not inspected: shop/pending: pod shop/pending on kind-worker has no running container
"""

ASCII_72 = """\
Node kind-worker - netns net:[4026531840] - 5 pods, 1 failing, 1 not
  inspected
ens3 (uplink, device) 192.168.1.20/24 - default via 192.168.1.1
|- cni0 (bridge) 10.244.1.1/24
|  |- veth3a1f09c2 (host)
|  |  <-veth pair-> eth0 10.244.1.5/24 - pod default/web - PASS
|  |    containers web, sidecar - pause pid 4711 - netns
|  |    net:[4026532181]
|  |    default via 10.244.1.1 - listening web 0.0.0.0:8080
|  |- veth99cc22dd (host)
|  |  <-veth pair-> eth0 10.244.1.7/24 - pod shop/multi - PASS (warn:
|  |    single-veth)
|  |    containers multi - pause pid 6000 - netns net:[4026532400]
|  |    default via 10.244.1.1
|  `- vethdeadbeef (host) - no pod found behind it
|- routed veths (no bridge: a host route per pod)
|  `- veth77aa11bb (host) - routes 10.244.1.6/32
|     <-veth pair-> eth0 10.244.1.6/24 - pod default/api - PASS (warn:
|       routes)
|       containers api - pause pid 5000 - netns net:[4026532300]
|       default via 10.244.1.1
|- veths with no bridge and no route (an extra network, e.g. Multus)
|  `- mveth99cc (host)
|     <-veth pair-> net2 - pod shop/multi (its eth0 is drawn elsewhere)
|- ens3 (parent of macvlan)
|  <-macvlan on this link-> net1 192.168.1.50/24 - pod shop/multi (its
|    eth0 is drawn elsewhere)
|- node netns net:[4026531840] (hostNetwork pods: no veth)
|  `- pod kube-system/agent - PASS
|       shares the node's interfaces - containers agent - pause pid 7000
|       - netns net:[4026531840]
|- not wired to the node (no confirmed veth peer here)
|  `- pod shop/isolated - FAIL (shared-netns, single-veth, routes)
|       only lo in its netns - containers job, stray (own netns
|       net:[4026532555]) - pause pid 8000 - netns net:[4026532500]
|       no default route
`- other links: lo (loopback)
not inspected: shop/pending: pod shop/pending on kind-worker has no
  running container
"""


def test_text_map_at_100_columns_with_box_drawing() -> None:
    assert render_map_text(sample_map(), 100) == BOX_100


def test_text_map_in_ascii_wraps_within_72_columns() -> None:
    text = render_map_text(sample_map(), 72, ascii_only=True)
    assert text == ASCII_72
    assert max(len(line) for line in text.splitlines()) <= 72
    assert all(ord(char) < 128 for char in text)


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_every_line_fits_the_width(width: int) -> None:
    for ascii_only in (True, False):
        assert max(len(line) for line in render_map_text(sample_map(), width, ascii_only).splitlines()) <= width


def test_a_node_without_default_route_says_so() -> None:
    node_map = sample_map()
    bare = dataclasses.replace(node_map, host=dataclasses.replace(node_map.host, uplink=None, gateway=None))
    assert render_map_text(bare, 100).splitlines()[1] == "(no default route: no uplink)"


def test_dot_output_is_the_golden_graph() -> None:
    assert render_dot(sample_map()) == (GOLDEN / "sample-map.dot").read_text()


def test_mermaid_output_is_the_golden_flowchart() -> None:
    assert render_mermaid(sample_map()) == (GOLDEN / "sample-map.mmd").read_text()


def test_labels_are_escaped_for_dot_and_mermaid() -> None:
    node_map = sample_map()
    quoted = dataclasses.replace(node_map, node='odd"name<x>')
    assert 'label="Node odd\\"name<x>' in render_dot(quoted)
    assert 'subgraph node["Node odd#quot;name#lt;x#gt;' in render_mermaid(quoted)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed (apt-get install graphviz)")
def test_graphviz_renders_the_dot_output_to_svg() -> None:
    done = subprocess.run(["dot", "-Tsvg"], input=render_dot(sample_map()), capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "<svg" in done.stdout and "veth3a1f09c2 (host veth)" in done.stdout


@pytest.mark.skipif(shutil.which("node") is None or not (MERMAID / "node_modules" / "mermaid").is_dir(),
                    reason="needs node and `npm install` in tests/mermaid (mermaid's own parser under jsdom)")
def test_mermaid_parser_accepts_the_output_and_rejects_a_broken_one(tmp_path: Path) -> None:
    good, bad = tmp_path / "map.mmd", tmp_path / "broken.mmd"
    good.write_text(render_mermaid(sample_map()))
    bad.write_text(render_mermaid(sample_map()).replace('["', "[", 1))
    run = subprocess.run(["node", str(MERMAID / "validate.mjs"), str(good)], capture_output=True, text=True,
                         check=False, cwd=MERMAID, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "flowchart" in run.stdout
    broken = subprocess.run(["node", str(MERMAID / "validate.mjs"), str(bad)], capture_output=True, text=True,
                            check=False, cwd=MERMAID)
    assert broken.returncode == 1, broken.stdout

"""Every lab mode, built for real, broken where that is the mode, mapped by the agent in one
run, its paths proven by real connects; the report, the map's JSON and the text diagram
(against a golden file) asserted; and nothing left behind.

Goldens: tests/golden/lab-MODE.txt, the ASCII map at 100 columns of the normalised map
(tests/normalise.py says what is replaced and why). PODNET_UPDATE_GOLDEN=1 rewrites them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.cli.app import main
from kubectl_podnet.lab.modes import MODES, LabMode, find_mode
from kubectl_podnet.lab.session import ConnectResult, build_mode, map_lab, prove
from kubectl_podnet.lab.spec import NODE_IP
from kubectl_podnet.lab.world import CGROUP_ROOT, STATE_DIR, LabNode, clean
from kubectl_podnet.model import PodNetNodeMap
from kubectl_podnet.node.procfs import NETNS_DIR
from kubectl_podnet.render.map_text import render_map_text
from kubectl_podnet.serde import from_json, to_json
from tests.normalise import normalised
from tests.privileged.conftest import TEST_PREFIX

pytestmark = pytest.mark.privileged
GOLDEN = Path(__file__).resolve().parents[1] / "golden"

P, F, S, W = "pass", "fail", "skip", "warn"


def _all(**changed: str) -> dict[str, str]:
    """Every check of the registry passing, but for the ones named (dashes as underscores)."""
    verdicts = dict.fromkeys(CHECK_IDS, P)
    verdicts.update({key.replace("_", "-"): value for key, value in changed.items()})
    return verdicts


# per mode: each pod's verdict on every check of the registry
STATUSES: dict[str, dict[str, dict[str, str]]] = {
    "bridge": {"web": _all()},
    "routed": {"web": _all()},
    "host": {"web": _all(single_veth=S, routes=S, mtu=S)},
    "none": {"web": _all(shared_ip=S, single_veth=F, pod_ip=S, routes=F, mtu=S)},
    "macvlan": {"web": _all(single_veth=W)},
    "two-pods": {"a": _all(), "b": _all()},
    "split-netns": {"web": _all(shared_netns=F)},
    "podip-only": {"web": _all(localhost=F)},
    "localhost-only": {"web": _all(pod_ip=F)},
    "no-route": {"web": _all(routes=F)},
    "kindnet": {"web": _all()},
    "calico": {"web": _all()},
    "cilium": {"web": _all()},
    "aws-vpc": {"web": _all()},
    "azure": {"web": _all()},
    "calico-noroute": {"web": _all(pod_ip=F, routes=F)},  # one story: pod-ip's fix points at the route
    "cilium-routemtu": {"web": _all(mtu=F)},
}
# per mode: (host link's bridge or "routed", pod interface, wire kind) for every wire
WIRES: dict[str, list[tuple[str, str, str]]] = {
    "bridge": [("cni0", "eth0", "veth")],
    "routed": [("routed", "eth0", "veth")],
    "host": [],
    "none": [],
    "macvlan": [("cni0", "eth0", "veth"), ("uplink", "net1", "macvlan")],
    "two-pods": [("cni0", "eth0", "veth"), ("cni0", "eth0", "veth")],
    "split-netns": [("cni0", "eth0", "veth")],
    "podip-only": [("cni0", "eth0", "veth")],
    "localhost-only": [("cni0", "eth0", "veth")],
    "no-route": [("cni0", "eth0", "veth")],
    "kindnet": [("routed", "eth0", "veth")],
    "calico": [("routed", "eth0", "veth")],
    "cilium": [("unbridged", "eth0", "veth")],  # no route per pod: the node reaches it via cilium_host
    "aws-vpc": [("routed", "eth0", "veth")],
    "azure": [("routed", "eth0", "veth")],
    "calico-noroute": [("unbridged", "eth0", "veth")],
    "cilium-routemtu": [("unbridged", "eth0", "veth")],
}


NODE_MODES = [mode for mode in MODES if not mode.two_nodes]  # the two-node ones: test_lab_overlay.py


def test_the_expectations_cover_every_mode_of_the_registry() -> None:
    assert set(STATUSES) == set(WIRES) == {mode.name for mode in NODE_MODES}


def _leftovers(prefix: str) -> list[str]:
    found = [n for n in os.listdir(NETNS_DIR) if n.startswith(prefix)] if os.path.isdir(NETNS_DIR) else []
    for hierarchy in (f"{CGROUP_ROOT}/unified", CGROUP_ROOT, f"{CGROUP_ROOT}/pids"):
        if os.path.isdir(hierarchy):
            found += [n for n in os.listdir(hierarchy) if n.startswith(prefix)]
    return found + ([f"{STATE_DIR}/{prefix}.json"] if os.path.exists(f"{STATE_DIR}/{prefix}.json") else [])


@pytest.fixture
def built(request: pytest.FixtureRequest) -> Iterator[tuple[LabMode, LabNode, PodNetNodeMap, list[ConnectResult]]]:
    mode: LabMode = request.param
    prefix = f"{TEST_PREFIX}{secrets.token_hex(3)}"
    node = build_mode(mode, prefix)
    try:
        yield mode, node, map_lab(node), prove(mode, node)
    finally:
        node.teardown()
        assert _leftovers(prefix) == []


def _where(node_map: PodNetNodeMap, ifindex: int) -> str:
    link = next(item for item in node_map.host.links if item.ifindex == ifindex)
    if link.master:
        return link.master
    return "uplink" if link.name == node_map.host.uplink else "routed" if link.routes else "unbridged"


@pytest.mark.parametrize("built", NODE_MODES, ids=lambda m: m.name, indirect=True)
def test_mode_report_map_and_golden(built: tuple[LabMode, LabNode, PodNetNodeMap, list[ConnectResult]]) -> None:
    mode, node, node_map, connects = built
    # the reports: every pod of the mode, each check as expected
    assert {r.pod.name for r in node_map.pods} == set(STATUSES[mode.name]) and node_map.errors == []
    for report in node_map.pods:
        statuses = {c.id: c.status for c in report.checks}
        expected = STATUSES[mode.name][report.pod.name or ""]
        assert statuses == expected, report.pod.name
    if mode.broken:  # the check the mode names is the one that fails
        assert any(c.id == mode.caught_by and c.status == "fail" for r in node_map.pods for c in r.checks)
    # the map: the node view, the wires, and a JSON round trip
    assert node_map.host.uplink == "eth0" and node_map.host.gateway is not None
    assert any(a.address == NODE_IP for link in node_map.host.links if link.name == "eth0" for a in link.addresses)
    assert sorted((_where(node_map, w.host_ifindex), w.pod_interface, w.kind) for w in node_map.wires) == sorted(
        WIRES[mode.name])
    for wire in node_map.wires:
        pod = next(p for p in node.plan.pods if p.uid == wire.pod_uid)
        if wire.kind == "veth":
            assert wire.host_link == pod.host_veth
    assert from_json(PodNetNodeMap, json.loads(json.dumps(to_json(node_map)))) == node_map
    # the connects prove what the mode says
    assert [c.outcome for c in connects] == [c.expect for c in mode.connects], [c.line() for c in connects]
    # the diagram, against its golden
    text = render_map_text(normalised(node_map, node.plan.prefix), 100, ascii_only=True)
    golden = GOLDEN / f"lab-{mode.name}.txt"
    if os.environ.get("PODNET_UPDATE_GOLDEN") == "1":
        golden.write_text(text)
    assert text == golden.read_text()


def test_modes_kept_at_once_do_not_clash_and_lab_clean_removes_them_all(capsys: pytest.CaptureFixture[str]) -> None:
    kept = [find_mode("bridge"), find_mode("routed")]
    try:
        for mode in kept:
            assert main(["lab", "--mode", mode.name, "--keep", "-o", "json"]) == 0
            document = json.loads(capsys.readouterr().out)
            assert document["kind"] == "PodNetNodeMap" and document["node"] == f"{mode.prefix}-node"
        for mode in kept:  # both still up, side by side
            assert os.path.exists(f"{NETNS_DIR}/{mode.prefix}-node") and os.path.exists(f"{NETNS_DIR}/{mode.prefix}-web")
        assert main(["lab", "clean"]) == 0
        removed = capsys.readouterr().out
        assert all(f"netns {mode.prefix}-node" in removed for mode in kept)
    finally:
        for mode in kept:
            clean(mode.prefix)
    assert all(_leftovers(mode.prefix) == [] for mode in kept)


def test_a_broken_mode_says_which_check_catches_it_and_the_fix(capsys: pytest.CaptureFixture[str]) -> None:
    mode = find_mode("localhost-only")
    try:
        code = main(["lab", "--mode", mode.name, "--ascii"])
    finally:
        clean(mode.prefix)
    out = capsys.readouterr().out
    assert "Broken on purpose: " in out and "Fix: bind 0.0.0.0:8080" in out
    assert "ip -n podnet-lab-localhost_only-node link add" in out  # the commands it ran
    assert "ECONNREFUSED, as expected" in out  # the connect from the node to the pod IP
    assert code == 1 and "caught by `pod-ip`: FAIL" in out
    assert _leftovers(mode.prefix) == []


def test_lab_mode_list_prints_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lab", "--mode", "list"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == [m.name for m in MODES]
    assert {"two-nodes", "pod-nat", "overlay-blocked", "overlay-mtu", "no-forward"} <= {m.name for m in MODES}

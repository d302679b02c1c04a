"""The two-node lab modes for real: two node netns joined by an underlay bridge, flannel's
vxlan between them, a pod on each; `connect` run through the CLI as a learner runs it, and
each mode broken on purpose failing the hop it names, on the node it names. Afterwards no
netns, cgroup, process or listener of the lab is left (the agents' one-off listeners close
before they answer).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from kubectl_podnet.cli.app import main
from kubectl_podnet.lab.modes import MODES, find_mode
from kubectl_podnet.lab.overlay import OverlayLab
from kubectl_podnet.lab.session import build_overlay, clean_mode
from kubectl_podnet.node.procfs import NETNS_DIR
from tests.privileged.conftest import TEST_PREFIX

pytestmark = pytest.mark.privileged

TWO_NODE = [mode for mode in MODES if mode.two_nodes]
# per mode: the hops that fail, each with the node ("a" or "b") it names
FAILS: dict[str, list[tuple[str, str]]] = {
    "two-nodes": [],
    "pod-nat": [("connection", "b")],
    "overlay-blocked": [("overlay", "b"), ("connection", "b"), ("port", "b")],
    "overlay-mtu": [("mtu", "a")],
    "no-forward": [("a-forward", "a"), ("connection", "b"), ("port", "b")],
}


def _netns(prefix: str) -> list[str]:
    return [n for n in os.listdir(NETNS_DIR) if n.startswith(prefix)] if os.path.isdir(NETNS_DIR) else []


def test_the_expectations_cover_every_two_node_mode() -> None:
    assert set(FAILS) == {mode.name for mode in TWO_NODE}


@pytest.mark.parametrize("name", list(FAILS))
def test_each_two_node_mode_connects_and_fails_the_hop_it_names(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    mode = find_mode(name)
    try:
        code = main(["lab", "--mode", name, "-o", "json"])
    finally:
        clean_mode(mode)
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "PodNetConnect" and report["sameNode"] is False
    nodes = {"a": report["source"]["report"]["pod"]["node"], "b": report["target"]["report"]["pod"]["node"]}
    failing = [(hop["id"], hop["node"]) for hop in report["hops"] if hop["status"] == "fail"]
    assert failing == [(hop, nodes[node]) for hop, node in FAILS[name]], report["hops"]
    assert code == (1 if FAILS[name] else 0)
    if mode.broken:
        assert mode.caught_by == FAILS[name][0][0]
    else:  # healthy: no NAT proven both ways, through the overlay
        assert report["target"]["accepted"]["peer"] == report["source"]["report"]["pod"]["podIps"][0]
        assert report["source"]["tunnel"]["remotes"] == [report["targetNodeIp"]]
    assert _netns(mode.prefix) == []


def test_the_text_names_the_break_and_its_fix(capsys: pytest.CaptureFixture[str]) -> None:
    mode = find_mode("pod-nat")
    try:
        assert main(["lab", "--mode", mode.name, "--show-commands"]) == 1
    finally:
        clean_mode(mode)
    out = capsys.readouterr().out
    assert "(SNAT)" in out and "MASQUERADE" in out and "Broken on purpose: caught by hop `connection`: FAIL." in out
    assert "iptables -t nat -A POSTROUTING" in out  # the break, among the commands it ran
    assert "bridge fdb show dev flannel.1" in out  # --show-commands


def test_no_listener_of_a_connect_outlives_it() -> None:
    lab = OverlayLab(f"{TEST_PREFIX}{secrets.token_hex(3)}")
    lab.build()
    try:
        report = lab.connect()
        assert report.verdict == "pass"
        port = report.source.dials[0].port
        b_pod = lab.nodes[1].plan.pods[0].netns
        assert b_pod is not None
        listening = subprocess.run(["ip", "netns", "exec", b_pod, "ss", "-Hltnu"], capture_output=True, text=True,
                                   check=True).stdout
        assert f":{port} " not in listening and ":8080 " in listening  # B's own server, and nothing of ours
    finally:
        lab.teardown()
    assert _netns(lab.prefix) == []


def test_a_kept_two_node_mode_is_removed_by_lab_clean(capsys: pytest.CaptureFixture[str]) -> None:
    mode = find_mode("two-nodes")
    try:
        assert main(["lab", "--mode", mode.name, "--keep", "-o", "json"]) == 0
        assert len(_netns(mode.prefix)) == 5  # two nodes, two pods, the wire
        assert main(["lab", "clean", "--mode", mode.name]) == 0
        assert f"netns {mode.prefix}-a-wire" in capsys.readouterr().out
    finally:
        clean_mode(mode)
    assert _netns(mode.prefix) == []


def test_build_overlay_tears_down_what_a_failed_break_left() -> None:
    mode = find_mode("no-forward")
    prefix = f"{TEST_PREFIX}{secrets.token_hex(3)}"
    broken = type(mode)(**{**{f: getattr(mode, f) for f in mode.__dataclass_fields__},
                           "overlay_breaks": lambda lab: [["ip", "link", "set", "no-such-link", "up"]]})
    with pytest.raises(Exception):
        build_overlay(broken, prefix)
    assert _netns(prefix) == []


def test_a_host_network_end_skips_its_own_hops_and_still_proves_no_nat() -> None:
    from kubectl_podnet.lab.lab_connect import connect_in_lab
    from kubectl_podnet.lab.spec import ContainerSpec, PodSpec, inspect_request
    from kubectl_podnet.lab.world import LabNode

    node = LabNode(f"{TEST_PREFIX}{secrets.token_hex(3)}", [
        PodSpec("a", (ContainerSpec("web", listen=("0.0.0.0:8080",)),)),
        PodSpec("h", (ContainerSpec("agent", listen=("0.0.0.0:18080",)),), network="host")])
    node.build()
    try:
        netns, (pod, host) = node.plan.node_netns, node.plan.pods
        to_host = connect_in_lab(netns, inspect_request(node.plan, pod), netns, inspect_request(node.plan, host))
        hops = {h.id: h for h in to_host.hops}
        assert to_host.verdict == "pass" and "delivers it to itself" in hops["a-forward"].detail
        from_host = connect_in_lab(netns, inspect_request(node.plan, host), netns, inspect_request(node.plan, pod))
        hops = {h.id: h for h in from_host.hops}
        assert from_host.verdict == "pass"
        assert hops["a-egress"].status == hops["a-forward"].status == "skip"
        assert "hostNetwork" in hops["a-egress"].detail and "(no SNAT)" in hops["connection"].detail
    finally:
        node.teardown()


def test_a_target_agent_killed_while_it_listens_leaves_no_listener() -> None:
    """Interrupted (the client gone, the exec killed): the listener is the agent's own socket,
    so it goes with the process; nothing was written to the node that would need undoing."""
    import time

    from kubectl_podnet.connect_model import connect_requests
    from kubectl_podnet.lab.spec import inspect_request
    from kubectl_podnet.lab.world import cni_conf_dir
    from kubectl_podnet.node.nsenter import enter_netns
    from kubectl_podnet.serde import to_json

    lab = OverlayLab(f"{TEST_PREFIX}{secrets.token_hex(3)}")
    lab.build()
    try:
        a, b = (node.plan for node in lab.nodes)
        _, target = connect_requests(inspect_request(a, a.pods[0]), inspect_request(b, b.pods[0]), a.node_ip,
                                     b.node_ip, False, 47001, 20.0)
        env = {**os.environ, "PODNET_CNI_CONF_DIR": cni_conf_dir(b.prefix)}
        agent = subprocess.Popen(
            [sys.executable, "-m", "kubectl_podnet.node", "--request", json.dumps({"connect": to_json(target)})],
            preexec_fn=lambda: enter_netns(f"{NETNS_DIR}/{b.node_netns}"), env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        b_pod = b.pods[0].netns
        assert b_pod is not None

        def listening() -> str:
            return subprocess.run(["ip", "netns", "exec", b_pod, "ss", "-Hltnu"], capture_output=True, text=True,
                                  check=True).stdout

        for _ in range(100):
            if ":47001 " in listening():
                break
            time.sleep(0.05)
        assert ":47001 " in listening()
        agent.kill()
        agent.wait()
        assert ":47001 " not in listening() and ":8080 " in listening()
    finally:
        lab.teardown()

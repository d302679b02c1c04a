"""`connect A B` on a real cluster: pods on two workers and on one node, and faults injected
on a kind node (always removed): each must name the right hop and node.

The faults are the causes users hit most: pod-to-pod traffic masqueraded, the
vxlan port dropped on B's node, B's node's underlay MTU lowered, FORWARD DROP on A's node,
and a stale FDB entry for B's node on A's. They are made with the node container's own
tools (`docker exec NODE iptables|ip|bridge`), so only the kind cluster runs them; the
same-node connect runs on the local cluster too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from e2e import nodes as n
from e2e import workloads as w
from e2e.clients import Kubectl, Podnet, Run

PORT = 8080
HOP_IDS = ["a-egress", "a-forward", "overlay", "b-deliver", "connection", "mtu", "port", "policy"]


def _connect(podnet: Podnet, namespace: str, a: str, b: str, code: int, *extra: str) -> dict[str, Any]:
    run: Run = podnet("connect", a, f"{b}:{PORT}", "-n", namespace, "-o", "json", *extra, timeout=240)
    assert run.code == code, run.describe()
    report: dict[str, Any] = run.json()
    assert report["kind"] == "PodNetConnect" and [h["id"] for h in report["hops"]] == HOP_IDS, report["hops"]
    assert report["verdict"] == ("fail" if code == 1 else "pass")
    return report


def _hops(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {hop["id"]: hop for hop in report["hops"]}


def _failing(report: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(hop["id"], hop["node"]) for hop in report["hops"] if hop["status"] == "fail"]


def _pair(kubectl: Kubectl, namespace: str, image: str, node_a: str, node_b: str) -> tuple[str, str]:
    kubectl.apply(*[w.pod(name, [w.server("web", image, PORT)], node_selector={"kubernetes.io/hostname": node},
                          tolerate_all=True) for name, node in (("a", node_a), ("b", node_b))], namespace=namespace)
    kubectl.wait_ready(namespace, "a", "b")
    return "a", "b"


@pytest.fixture
def workers(kubectl: Kubectl) -> list[str]:
    names = [node for node in n.node_names(kubectl) if "control-plane" not in node]
    if len(names) < 2:
        pytest.skip(f"needs two worker nodes; this cluster has {names or 'none'}: run on kind (E2E_CLUSTER=kind)")
    if n.docker() is None:
        pytest.skip("needs the nodes' containers (docker with DOCKER_HOST): run on kind (E2E_CLUSTER=kind)")
    return names[:2]


def test_connect_on_one_node_passes_with_no_nat(kubectl: Kubectl, podnet: Podnet, namespace: str, image: str,
                                                agent_ready: None) -> None:
    node = n.node_names(kubectl)[-1]
    a, b = _pair(kubectl, namespace, image, node, node)
    report = _connect(podnet, namespace, a, b, 0)
    hops = _hops(report)
    assert report["sameNode"] is True and hops["overlay"]["status"] == "skip"
    assert hops["connection"]["status"] == "pass" and "(no SNAT)" in hops["connection"]["detail"]
    assert hops["port"]["status"] == "pass"
    a_ip = report["source"]["report"]["pod"]["podIps"][0]
    assert report["target"]["accepted"]["peer"] == a_ip


def test_connect_across_two_workers_passes_through_the_overlay(kubectl: Kubectl, podnet: Podnet, namespace: str,
                                                               image: str, workers: list[str], agent_ready: None) -> None:
    a, b = _pair(kubectl, namespace, image, *workers)
    report = _connect(podnet, namespace, a, b, 0)
    hops = _hops(report)
    assert report["sameNode"] is False and _failing(report) == []
    assert hops["overlay"]["status"] == "pass" and report["target"]["accepted"]["peer"] == \
        report["source"]["report"]["pod"]["podIps"][0]
    assert report["source"]["tunnel"]["remotes"] == [report["targetNodeIp"]]
    assert "=udp 8472=>" in report["path"] and hops["mtu"]["status"] == "pass"


# ---- faults on kind nodes, always removed -----------------------------------------------

class Faults:
    """A healthy pair across the workers, and `connect` run with a fault injected on a node: the
    command that removes it is recorded before the fault is made and run whatever happens."""

    def __init__(self, podnet: Podnet, namespace: str, a: str, b: str) -> None:
        self.podnet, self.namespace, self.a, self.b = podnet, namespace, a, b
        self.healthy = _connect(podnet, namespace, a, b, 0)
        self.undo: list[tuple[str, list[str]]] = []

    @property
    def a_ip(self) -> str:
        return str(self.healthy["source"]["report"]["pod"]["podIps"][0])

    @property
    def b_ip(self) -> str:
        return str(self.healthy["target"]["report"]["pod"]["podIps"][0])

    def run(self, node: str, inject: list[str], remove: list[str]) -> dict[str, Any]:
        self.undo.append((node, remove))
        _on(node, *inject)
        return _connect(self.podnet, self.namespace, self.a, self.b, 1)

    def restore(self) -> None:
        for node, remove in reversed(self.undo):
            n.docker_run("exec", node, *remove)
        self.undo.clear()


def _on(node: str, *argv: str) -> str:
    done = n.docker_run("exec", node, *argv)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def faults(kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, workers: list[str],
           agent_ready: None) -> Iterator[Faults]:
    a, b = _pair(kubectl, namespace, image, *workers)
    made = Faults(podnet, namespace, a, b)
    try:
        yield made
    finally:
        made.restore()
    assert _connect(podnet, namespace, a, b, 0)["verdict"] == "pass"  # every fault gone again


def test_masquerade_of_pod_to_pod_traffic_fails_the_connection_with_the_rule(faults: Faults,
                                                                           workers: list[str]) -> None:
    rule = ["POSTROUTING", "-s", faults.a_ip, "-d", faults.b_ip, "-j", "MASQUERADE"]
    report = faults.run(workers[0], ["iptables", "-t", "nat", "-I", *rule], ["iptables", "-t", "nat", "-D", *rule])
    hop = _hops(report)["connection"]
    assert _failing(report) == [("connection", workers[1])]
    assert "(SNAT)" in hop["detail"] and "MASQUERADE" in hop["detail"]


def test_the_vxlan_port_dropped_on_bs_node_fails_the_overlay_there(faults: Faults, workers: list[str]) -> None:
    rule = ["INPUT", "-p", "udp", "--dport", "8472", "-j", "DROP"]
    report = faults.run(workers[1], ["iptables", "-I", *rule], ["iptables", "-D", *rule])
    assert ("overlay", workers[1]) in _failing(report)
    assert "dropped" in _hops(report)["overlay"]["detail"]


def test_bs_underlay_mtu_lowered_fails_mtu_with_the_size_that_passes(faults: Faults, workers: list[str]) -> None:
    mtu = _on(workers[1], "cat", "/sys/class/net/eth0/mtu").strip()
    report = faults.run(workers[1], ["ip", "link", "set", "eth0", "mtu", str(int(mtu) - 100)],
                        ["ip", "link", "set", "eth0", "mtu", mtu])
    hop = _hops(report)["mtu"]
    assert _failing(report) == [("mtu", workers[0])] and "the largest that arrives is" in hop["detail"]


def test_forward_drop_on_as_node_fails_its_forwarding(faults: Faults, workers: list[str]) -> None:
    rule = ["FORWARD", "-s", faults.a_ip, "-d", faults.b_ip, "-j", "DROP"]
    report = faults.run(workers[0], ["iptables", "-I", *rule], ["iptables", "-D", *rule])
    assert ("a-forward", workers[0]) in _failing(report)
    assert "dropped by" in _hops(report)["a-forward"]["detail"]


def test_a_stale_fdb_entry_on_as_node_names_the_wrong_vtep(faults: Faults, workers: list[str]) -> None:
    tunnel = faults.healthy["source"]["tunnel"]
    entry = ["bridge", "fdb", "replace", tunnel["gatewayMac"], "dev", tunnel["name"], "self", "permanent", "dst"]
    report = faults.run(workers[0], [*entry, "172.18.255.254"], [*entry, tunnel["remotes"][0]])
    hop = _hops(report)["overlay"]
    assert ("overlay", workers[0]) in _failing(report) and "stale VTEP" in hop["detail"]

"""`node map` on a real node: through the cluster path (the API faked at our own ClusterPort,
the agent run in the lab node's netns as the DaemonSet runs it) in one exec for every pod,
and run right on the node as root (pods found by their cgroups, no API)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from kubectl_podnet.cli.app import main
from kubectl_podnet.lab.spec import ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode
from tests.fakes import FakeCluster
from tests.privileged.test_client_path import cluster_for, pod_object  # noqa: F401  (a fixture)

pytestmark = pytest.mark.privileged
Lab = Callable[..., LabNode]
SERVER = ContainerSpec("web", listen=("0.0.0.0:8080",))


def test_node_map_of_three_pods_is_one_exec_when_warm(
    lab: Lab, cluster_for: Callable[[LabNode], FakeCluster], capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    node = lab(PodSpec("a", (SERVER,)), PodSpec("b", (SERVER,)), PodSpec("c", (ContainerSpec("web", listen=("pod:8080",)),)))
    cluster = cluster_for(node)
    for index in range(3):
        cluster.add_pod(pod_object(node, index))
    name = node.plan.node_netns
    # the fake's agent pod has no container ids (no process of it runs on the lab node): it is
    # the one pod the map cannot inspect, hence exit 3, and it is listed as such
    assert main(["node", "map", name, "-o", "json", "-q"]) == 3
    capsys.readouterr()
    cluster.execs.clear()
    assert main(["node", "map", name, "-o", "json", "-q"]) == 3
    assert [stdin for _, stdin in cluster.execs] == [0]  # warm: one exec, nothing sent, for every pod
    document = json.loads(capsys.readouterr().out)
    assert document["kind"] == "PodNetNodeMap" and document["node"] == name
    assert [(p["pod"]["name"], p["verdict"]) for p in document["pods"]] == [("a", "pass"), ("b", "pass"), ("c", "fail")]
    assert [(e["namespace"], e["name"]) for e in document["errors"]] == [("podnet-system", "podnet-agent-x1")]
    wired = {w["name"]: w["hostLink"] for w in document["wires"]}
    assert wired == {pod.spec.name: pod.host_veth for pod in node.plan.pods}
    links = {link["name"]: link for link in document["host"]["links"]}
    assert all(links[veth]["master"] == "cni0" for veth in wired.values())

    assert main(["node", "map", name, "--ascii", "-q"]) == 3
    text = capsys.readouterr().out
    assert "cni0 (bridge) 10.244.0.1/24" in text and "pod shop/c - FAIL (localhost)" in text
    assert "not inspected: podnet-system/podnet-agent-x1" in text


def test_node_map_run_on_the_node_finds_pods_by_their_cgroups(lab: Lab) -> None:
    node = lab(PodSpec("web", (SERVER, ContainerSpec("sidecar"))), PodSpec("host", (SERVER,), network="host"))
    done = subprocess.run(["ip", "netns", "exec", node.plan.node_netns, sys.executable, "-m", "kubectl_podnet",
                           "node", "map", "-o", "json"], capture_output=True, text=True, timeout=120, check=False)
    assert done.stdout, done.stderr
    document = json.loads(done.stdout)
    assert document["node"] is None  # no API here to name the node
    ours = {pod.uid: pod for pod in node.plan.pods}
    found = {p["pod"]["uid"]: p for p in document["pods"] if p["pod"]["uid"] in ours}
    assert set(found) == set(ours)  # other pods of this machine (a local cluster) may be there too
    web, host = (found[pod.uid] for pod in node.plan.pods)
    assert web["pod"]["name"] is None and sorted(c["id"] for c in web["containers"]) == sorted(
        node.plan.pods[0].container_ids.values())  # no names without the API: ids
    assert host["pod"]["hostNetwork"] is True  # detected: its netns is the node's
    (wire,) = [w for w in document["wires"] if w["podUid"] == node.plan.pods[0].uid]
    assert wire["hostLink"] == node.plan.pods[0].host_veth

"""The whole client path on a real node: pod object -> agent install -> code delivery ->
agent run in the node netns -> report -> rendering and exit code.

Only the API server is faked, at our own ClusterPort; its exec runs the bootstrap
inside the lab node's netns, where the agent pod (hostNetwork, hostPID) would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubectl_podnet.checks.registry import CHECKS
from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.app import main
from kubectl_podnet.lab.spec import ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode, clean
from tests.fakes import FakeCluster, pod_from

pytestmark = pytest.mark.privileged
Lab = Callable[..., LabNode]


def pod_object(node: LabNode, index: int = 0, host_network: bool = False) -> dict[str, Any]:
    """The Pod as the API server would return it for a lab pod."""
    pod = node.plan.pods[index]
    return {
        "metadata": {"name": pod.spec.name, "namespace": "shop", "uid": pod.uid},
        "spec": {"nodeName": node.plan.node_netns, "hostNetwork": host_network,
                 "containers": [{"name": c.name} for c in pod.spec.containers]},
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": ip} for ip in pod.pod_ips],
            "containerStatuses": [
                {"name": name, "containerID": f"containerd://{cid}", "state": {"running": {}}, "ready": True}
                for name, cid in pod.container_ids.items()
            ],
        },
    }


@pytest.fixture
def cluster_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[LabNode], FakeCluster]:
    def make(node: LabNode) -> FakeCluster:
        cluster = FakeCluster(netns=node.plan.node_netns, cache_dir=str(tmp_path / "agent-cache"))

        def make_pod(obj: dict[str, Any]) -> None:
            if obj["kind"] == "DaemonSet":
                cluster.add_pod(pod_from(obj, node.plan.node_netns))
        cluster.on_write = make_pod
        monkeypatch.setattr(cluster_opts, "connect", lambda kubeconfig, context, timeout=None: cluster)
        return cluster

    return make


def test_first_inspect_installs_and_sends_code_then_a_warm_one_does_neither(
    lab: Lab, cluster_for: Callable[[LabNode], FakeCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    node = lab(PodSpec("web", (ContainerSpec("web", listen=("0.0.0.0:8080",)), ContainerSpec("sidecar"))))
    cluster = cluster_for(node)
    cluster.add_pod(pod_object(node))

    assert main(["inspect", "web", "-n", "shop", "-o", "json"]) == 0
    first = capsys.readouterr()
    report = json.loads(first.out)
    assert report["verdict"] == "pass" and report["pod"]["name"] == "web"
    assert "installing the podnet agent" in first.err and "sending the agent code" in first.err

    cluster.execs.clear()
    assert main(["inspect", "web", "-n", "shop", "-o", "json"]) == 0
    warm = capsys.readouterr()
    assert "installing" not in warm.err and "sending" not in warm.err
    assert [stdin for _, stdin in cluster.execs] == [0]
    assert json.loads(warm.out)["checks"] == report["checks"]


def test_failed_check_gives_exit_1_and_a_table_with_the_fix(
    lab: Lab, cluster_for: Callable[[LabNode], FakeCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    node = lab(PodSpec("podip", (ContainerSpec("web", listen=("pod:8080",)),)))
    cluster_for(node).add_pod(pod_object(node))
    assert main(["inspect", "podip", "-n", "shop", "-q", "--show-commands"]) == 1
    out = capsys.readouterr().out
    assert "localhost        FAIL" in out and "fix: bind 0.0.0.0" in out
    assert "Verdict: FAIL" in out and "By hand:" in out and "nsenter -t" in out


def test_yaml_output_of_a_host_network_pod(
    lab: Lab, cluster_for: Callable[[LabNode], FakeCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    node = lab(PodSpec("hostnet", (ContainerSpec("agent", listen=("0.0.0.0:18080",)),), network="host"))
    cluster_for(node).add_pod(pod_object(node, host_network=True))
    assert main(["inspect", "hostnet", "-n", "shop", "-o", "yaml", "-q"]) == 0
    report = yaml.safe_load(capsys.readouterr().out)
    assert report["pod"]["hostNetwork"] is True
    assert {c["id"]: c["status"] for c in report["checks"]}["single-veth"] == "skip"


def _in_node_netns(node: LabNode, argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", node.plan.node_netns, *argv],
                          capture_output=True, text=True, timeout=60, check=False)


def test_node_inspect_command_on_the_node(lab: Lab) -> None:
    node = lab(PodSpec("web", (ContainerSpec("web", listen=("0.0.0.0:8080",)), ContainerSpec("sidecar"))))
    pod = node.plan.pods[0]
    argv = [sys.executable, "-m", "kubectl_podnet", "node", "inspect", "--pod-uid", pod.uid, "-o", "json"]
    for name, cid in pod.container_ids.items():
        argv += ["--container", f"{name}=containerd://{cid}"]
    argv += ["--pod-ip", pod.ipv4]
    done = _in_node_netns(node, argv)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [c["name"] for c in report["containers"]] == ["web", "sidecar"]
    assert report["verdict"] == "pass"


def test_lab_command_builds_inspects_and_cleans(capsys: pytest.CaptureFixture[str]) -> None:
    try:
        assert main(["lab"]) == 0  # the default mode: bridge
        out = capsys.readouterr().out
        assert "ip netns add podnet-lab-bridge-node" in out
        assert "localhost        PASS" in out and "Verdict: PASS (1 pod, 0 failing a check)" in out
        assert not any(n.startswith("podnet-lab") for n in _netns())

        assert main(["lab", "--keep", "-o", "json"]) == 0
        captured = capsys.readouterr()
        (report,) = json.loads(captured.out)["pods"]
        assert report["verdict"] == "pass" and len(report["checks"]) == len(CHECKS)
        assert "podnet-lab-bridge-web" in _netns()
        assert main(["lab", "clean"]) == 0
        assert "netns podnet-lab-bridge-web" in capsys.readouterr().out
        assert not any(n.startswith("podnet-lab") for n in _netns())
    finally:
        clean("podnet-lab-bridge")


def _netns() -> list[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True)
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def test_selector_inspects_every_pod_in_one_exec_per_node(
    lab: Lab, cluster_for: Callable[[LabNode], FakeCluster], capsys: pytest.CaptureFixture[str]
) -> None:
    server = ContainerSpec("web", listen=("0.0.0.0:8080",))
    node = lab(PodSpec("a", (server,)), PodSpec("b", (server,)), PodSpec("c", (ContainerSpec("web", listen=("pod:8080",)),)))
    cluster = cluster_for(node)
    for index in range(3):
        pod = pod_object(node, index)
        pod["metadata"]["labels"] = {"app": "shop"}
        cluster.add_pod(pod)

    assert main(["inspect", "-l", "app=shop", "-n", "shop", "-o", "json", "-q"]) == 1  # pod c fails localhost
    listing = json.loads(capsys.readouterr().out)
    assert listing["kind"] == "PodNetReportList" and listing["errors"] == []
    assert [(r["pod"]["name"], r["verdict"]) for r in listing["items"]] == [("a", "pass"), ("b", "pass"), ("c", "fail")]

    cluster.execs.clear()
    assert main(["inspect", "a", "b", "missing", "-n", "shop", "-q"]) == 3  # a pod that is not there: exit 3
    out = capsys.readouterr().out
    assert len(cluster.execs) == 1  # warm now, one node: one exec for both pods
    assert "\nshop/missing: error: pod shop/missing: not found\n" in out  # the summary table's line to act on
    assert out.endswith("3 pods: 2 passed, 0 failed a check, 1 could not be inspected, 0 skipped\n")

"""Scenario: `kubectl podnet node map NODE` on the real node, three pods on it.

The map must show each of our pods wired to the node the way its CNI wires it: on the
cni0 bridge (the local cluster's default, `bridge`), or by a /32 host route through its
own veth (`--network ptp`, kind's kindnet). Each test runs for the CNI the cluster has
and skips, saying why, for the other: switching the local cluster's CNI needs
`python3 -m testbeds.localcluster up --network ptp`, a restart no test may do to the shared cluster.
Other pods of the node (other tests, other users) may be on the map too: only ours are
asserted, and the exit code may reflect theirs.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet

MERMAID = Path(__file__).resolve().parent.parent / "tests" / "mermaid"
NAMES = ("web-0", "web-1", "web-2")


def _three_pods_mapped(kubectl: Kubectl, podnet: Podnet, namespace: str, image: str) -> tuple[str, dict[str, Any]]:
    def web(name: str, node: str | None = None) -> dict[str, Any]:
        selector = {"kubernetes.io/hostname": node} if node else None
        return w.pod(name, [w.server("server", image, 8080), w.idle("sidecar", image)], node_selector=selector)

    # the first lands where the scheduler puts it; the others follow it, so one node holds
    # all three on a cluster of several nodes too
    kubectl.apply(web(NAMES[0]), namespace=namespace)
    kubectl.wait_ready(namespace, NAMES[0])
    node = kubectl.get("pod", NAMES[0], "-n", namespace)["spec"]["nodeName"]
    kubectl.apply(*[web(name, node) for name in NAMES[1:]], namespace=namespace)
    kubectl.wait_ready(namespace, *NAMES)
    run = podnet("node", "map", node, "-o", "json", "--timeout", "120", "-q")
    assert run.code in (0, 1, 3), run.describe()  # other pods of the node decide 1 or 3, not ours
    document: dict[str, Any] = run.json()
    assert document["kind"] == "PodNetNodeMap" and document["node"] == node
    ours = [p for p in document["pods"] if p["pod"]["namespace"] == namespace]
    assert sorted(p["pod"]["name"] for p in ours) == list(NAMES), document["errors"]
    assert all(p["verdict"] == "pass" for p in ours), [p["checks"] for p in ours if p["verdict"] != "pass"]
    assert not [e for e in document["errors"] if e["namespace"] == namespace]
    return node, document


def _our_wires(document: dict[str, Any], namespace: str) -> dict[str, dict[str, Any]]:
    links = {link["ifindex"]: link for link in document["host"]["links"]}
    wires = [w for w in document["wires"] if w["namespace"] == namespace]
    assert sorted((w["name"], w["podInterface"], w["kind"]) for w in wires) == [(n, "eth0", "veth") for n in NAMES]
    return {wire["name"]: links[wire["hostIfindex"]] for wire in wires}


def test_node_map_draws_three_pods_on_the_cni0_bridge(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, document = _three_pods_mapped(kubectl, podnet, namespace, image)
    links = _our_wires(document, namespace)
    if any(link["master"] is None for link in links.values()):
        pytest.skip("this cluster routes pods (ptp): the bridge map is asserted on a bridge CNI "
                    "(the local cluster's default, `python3 -m testbeds.localcluster up`)")
    assert {link["master"] for link in links.values()} == {"cni0"}
    assert document["host"]["uplink"], document["host"]
    cni0 = next(link for link in document["host"]["links"] if link["name"] == "cni0")
    assert cni0["kind"] == "bridge" and cni0["addresses"]
    agent = [p for p in document["pods"] if p["pod"]["namespace"] == "podnet-system"]
    assert agent and agent[0]["pod"]["hostNetwork"] is True  # the agent's own pod, under the node's netns

    monkeypatch.setenv("COLUMNS", "100")
    text = podnet("node", "map", node, "-q")
    assert text.code in (0, 1, 3), text.describe()
    assert max(len(line) for line in text.stdout.splitlines()) <= 100
    assert all(ord(char) < 128 for char in text.stdout)  # not a terminal: plain ASCII
    assert "cni0 (bridge)" in text.stdout
    for name in NAMES:
        assert f"{namespace}/{name} - PASS" in text.stdout, text.stdout  # (a long namespace wraps after "pod")

    mermaid = podnet("node", "map", node, "-o", "mermaid", "-q")
    assert mermaid.stdout.startswith("flowchart TD\n") and f"pod {namespace}/web-0" in mermaid.stdout
    if shutil.which("node") and (MERMAID / "node_modules" / "mermaid").is_dir():
        checked = subprocess.run(["node", str(MERMAID / "validate.mjs"), "/dev/stdin"], input=mermaid.stdout,
                                 capture_output=True, text=True, cwd=MERMAID, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_node_map_draws_three_routed_pods_with_their_host_routes(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    _, document = _three_pods_mapped(kubectl, podnet, namespace, image)
    links = _our_wires(document, namespace)
    if any(link["master"] is not None for link in links.values()):
        pytest.skip("this cluster bridges pods (cni0): the routed map needs a ptp CNI, e.g. "
                    "`python3 -m testbeds.localcluster up --network ptp` (a restart of the shared cluster "
                    "no test may do) or kind with kindnet (ours runs flannel, which bridges)")
    ips = {p["pod"]["name"]: p["pod"]["podIps"][0] for p in document["pods"] if p["pod"]["namespace"] == namespace}
    for name, link in links.items():
        assert f"{ips[name]}/32" in link["routes"], link

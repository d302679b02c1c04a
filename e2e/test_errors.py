"""Scenario 6: what a user gets when the pod cannot be inspected: one clear line, exit 3, no leftovers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet
from e2e.leftovers import AGENT_NAMESPACE, Snapshot
from e2e.reports import error_line


def test_missing_pod_is_one_line_exit_3_and_installs_nothing(
    podnet: Podnet, namespace: str, ours_in_cluster: Snapshot
) -> None:
    before = ours_in_cluster.agent_objects(), ours_in_cluster.namespace_objects(namespace)

    line = error_line(podnet.inspect("no-such-pod", namespace))

    print(line)

    assert f"pod {namespace}/no-such-pod" in line and "not found" in line, line
    assert (ours_in_cluster.agent_objects(), ours_in_cluster.namespace_objects(namespace)) == before


def test_pending_pod_is_one_line_exit_3_with_the_scheduler_reason(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    stuck = w.pod("stuck", [w.idle("main", image)], node_selector={"podnet-e2e/no-such-node": "true"})
    kubectl.apply(stuck, namespace=namespace)
    kubectl("wait", "-n", namespace, "--for=condition=PodScheduled=false", "pod/stuck", "--timeout=60s")
    before = ours_in_cluster.agent_objects(), ours_in_cluster.namespace_objects(namespace)

    line = error_line(podnet.inspect("stuck", namespace))

    print(line)

    assert f"pod {namespace}/stuck" in line and "not scheduled" in line, line
    assert "node" in line.split("not scheduled", 1)[1], f"no scheduler reason in: {line}"
    assert (ours_in_cluster.agent_objects(), ours_in_cluster.namespace_objects(namespace)) == before


def _admin_cluster(kubectl: Kubectl) -> dict[str, str]:
    """The server and CA of the admin kubeconfig (inline data or a file)."""
    view = kubectl("config", "view", "--raw", "--minify", "-o", "json").json()
    cluster = view["clusters"][0]["cluster"]
    ca = cluster.get("certificate-authority-data")
    if not ca and cluster.get("certificate-authority"):
        ca = base64.b64encode(Path(cluster["certificate-authority"]).read_bytes()).decode()
    found = {"server": cluster["server"]}
    if ca:
        found["certificate-authority-data"] = ca
    return found


def _token_kubeconfig(path: Path, kubectl: Kubectl, namespace: str, account: str) -> Path:
    token = kubectl("create", "token", account, "-n", namespace, "--duration=10m").stdout.strip()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": _admin_cluster(kubectl)}],
        "users": [{"name": account, "user": {"token": token}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": account, "namespace": namespace}}],
        "current-context": "e2e",
    }
    path.write_text(json.dumps(config))
    path.chmod(0o600)
    return path


def _reader_role(name: str, namespace: str, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": namespace}, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": namespace},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": "viewer", "namespace": namespace}]},
    ]


@pytest.mark.usefixtures("agent_ready")
def test_user_without_pods_exec_gets_forbidden_in_one_line_exit_3(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot, tmp_path: Path
) -> None:
    kubectl.apply(w.pod("web", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")
    # a viewer: may read pods here and read the agent, may not exec anywhere
    read_pods = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
    read_agent = {"apiGroups": ["apps"], "resources": ["daemonsets"], "verbs": ["get", "list"]}
    role = f"e2e-viewer-{namespace}"[:63]
    kubectl("create", "serviceaccount", "viewer", "-n", namespace)
    kubectl.apply(*_reader_role(role, namespace, [read_pods]), namespace=namespace)
    agent_rbac = _reader_role(role, AGENT_NAMESPACE, [read_pods, read_agent])
    agent_rbac[1]["subjects"] = [{"kind": "ServiceAccount", "name": "viewer", "namespace": namespace}]
    kubectl.apply(*agent_rbac, namespace=AGENT_NAMESPACE)
    try:
        viewer = Podnet(str(_token_kubeconfig(tmp_path / "viewer.kubeconfig", kubectl, namespace, "viewer")),
                        podnet.agent_image, history=podnet.history)
        allowed = kubectl("auth", "can-i", "create", "pods/exec", "-n", AGENT_NAMESPACE,
                          f"--as=system:serviceaccount:{namespace}:viewer", check=False)
        assert allowed.stdout.strip() == "no", allowed.describe()
        before = ours_in_cluster.agent_objects(), ours_in_cluster.namespace_objects(namespace)

        line = error_line(viewer.inspect("web", namespace))

        print(line)

        assert "forbidden" in line.lower(), line
        assert "exec" in line, line
        assert (ours_in_cluster.agent_objects(), ours_in_cluster.namespace_objects(namespace)) == before
    finally:
        kubectl("delete", "rolebinding,role", role, "-n", AGENT_NAMESPACE, "--ignore-not-found", check=False)

"""The agent manifests: printable, equal to manifests/, least privilege explained."""

from __future__ import annotations

from pathlib import Path

import yaml

from kubectl_podnet.cluster.manifests import agent_objects, render_yaml

REPO = Path(__file__).parent.parent.parent


def test_rendered_defaults_equal_the_checked_in_manifests() -> None:
    assert render_yaml(agent_objects()) == (REPO / "manifests" / "agent.yaml").read_text()


def test_namespace_allows_privileged_pods_and_is_marked_ours() -> None:
    namespace = agent_objects()[0]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged"
    assert labels["app.kubernetes.io/managed-by"] == "kubectl-podnet"


def test_daemonset_runs_everywhere_with_host_pid_and_network_and_no_api_token() -> None:
    daemonset = agent_objects()[2]
    spec = daemonset["spec"]["template"]["spec"]
    assert spec["hostPID"] is True and spec["hostNetwork"] is True
    assert spec["tolerations"] == [{"operator": "Exists"}]
    assert spec["automountServiceAccountToken"] is False
    (container,) = spec["containers"]
    assert container["securityContext"]["privileged"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    netns = next(m for m in container["volumeMounts"] if m["name"] == "netns")
    assert netns["readOnly"] is True and netns["mountPropagation"] == "HostToContainer"


def test_image_and_namespace_are_parameters() -> None:
    objects = agent_objects("ops-debug", "mirror.example/python:3.12")
    assert {o["metadata"].get("namespace") for o in objects[1:]} == {"ops-debug"}
    assert objects[2]["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example/python:3.12"


def test_every_privilege_in_the_daemonset_source_says_why() -> None:
    source = (REPO / "kubectl_podnet" / "cluster" / "manifests.py").read_text()
    for key in ('"hostPID"', '"hostNetwork"', '"privileged"', '"tolerations"', '"mountPropagation"'):
        line = next(line for line in source.splitlines() if key in line)
        before = source.splitlines()[source.splitlines().index(line) - 1]
        assert "#" in line or before.strip().startswith("#"), key


def test_manifests_are_valid_multi_document_yaml() -> None:
    docs = list(yaml.safe_load_all((REPO / "manifests" / "agent.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["Namespace", "ServiceAccount", "DaemonSet"]

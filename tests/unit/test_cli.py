"""The CLI: help everywhere, one-line errors with documented exit codes, outputs.

Cluster verbs run against FakeCluster, swapped in at our own `connect` boundary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kubectl_podnet import __version__
from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.app import app, main
from tests.fakes import FakeCluster, pod_from

runner = CliRunner()
REPO = Path(__file__).parent.parent.parent


@pytest.mark.parametrize(
    "args", [["-h"], ["inspect", "-h"], ["agent", "-h"], ["agent", "install", "-h"], ["node", "inspect", "-h"],
             ["lab", "-h"], ["version", "-h"]],
)
def test_help_works_everywhere(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and "Usage:" in result.output


def test_version_prints_the_plugin_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    assert capsys.readouterr().out == f"kubectl-podnet {__version__}\n"


def test_unknown_option_is_one_line_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "web", "--bogus"]) == 2
    assert capsys.readouterr().err == "kubectl-podnet: error: No such option: --bogus (see 'kubectl podnet inspect -h')\n"


@pytest.mark.parametrize("args", [["inspect", "web", "-o", "xml"], ["lab", "--mode"], ["node", "map", "--width", "x"],
                                  ["connect", "a"], ["agent", "install", "--timeout", "-"]])
def test_every_parser_error_is_one_line_usage_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("kubectl-podnet: error: ") and err.count("\n") == 1, err


def test_the_bare_command_prints_its_help_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert capsys.readouterr().err.startswith("Usage: kubectl podnet [OPTIONS] COMMAND")


def test_a_bug_of_ours_is_one_line_exit_4_not_cluster_trouble(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise KeyError("podIPs")

    monkeypatch.setattr(cluster_opts, "connect", broken)
    assert main(["inspect", "web"]) == 4
    assert capsys.readouterr().err == ("kubectl-podnet: internal error: KeyError: 'podIPs' "
                                       "(rerun with PODNET_DEBUG=1 for details)\n")


def test_missing_kubeconfig_file_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "web", "--kubeconfig", "/nonexistent/config"]) == 2
    err = capsys.readouterr().err
    assert err == "kubectl-podnet: error: kubeconfig /nonexistent/config does not exist\n"


def test_no_kubeconfig_at_all_is_cluster_trouble_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["inspect", "web"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("kubectl-podnet: error: cannot load a kubeconfig") and err.count("\n") == 1


def test_agent_install_print_only_prints_the_checked_in_manifests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "install", "--print-only"]) == 0
    assert capsys.readouterr().out == (REPO / "manifests" / "agent.yaml").read_text()


def test_node_inspect_rejects_a_malformed_uid_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["node", "inspect", "--pod-uid", "not-a-uid"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (
        "kubectl-podnet: error: pod uid 'not-a-uid' is not a lowercase UUID (or a static pod's 32-hex config hash)\n"
    )


def test_node_inspect_rejects_a_malformed_container_id(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["node", "inspect", "--pod-uid", "0a1b2c3d-0000-4000-8000-00000000abcd", "--container", "web=xyz"])
    assert code == 2
    assert capsys.readouterr().err == (
        "kubectl-podnet: error: container id 'xyz' is not 64 lowercase hex digits (strip 'containerd://')\n"
    )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCluster:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    monkeypatch.setattr(cluster_opts, "connect", lambda kubeconfig, context, timeout=None: cluster)
    return cluster


def test_inspect_of_a_missing_pod_is_one_line_exit_3(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "nope", "-n", "shop"]) == 3
    assert capsys.readouterr().err == "kubectl-podnet: error: pod shop/nope: not found\n"


def test_inspect_of_a_pending_pod_is_one_line_exit_3(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    pending: dict[str, Any] = {"metadata": {"name": "stuck", "namespace": "default", "uid": "x"}, "spec": {},
                               "status": {"phase": "Pending"}}
    fake.add_pod(pending)
    assert main(["inspect", "pod/stuck"]) == 3
    assert capsys.readouterr().err == (
        "kubectl-podnet: error: pod default/stuck is Pending and not scheduled: not scheduled yet\n"
    )


def test_inspect_no_install_without_agent_exit_3(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    fake.add_pod({"metadata": {"name": "web", "namespace": "default", "uid": "0a1b2c3d-0000-4000-8000-00000000abcd"},
                  "spec": {"nodeName": "node-1"},
                  "status": {"phase": "Running", "containerStatuses": [
                      {"name": "web", "containerID": "containerd://" + "a" * 64, "state": {"running": {}}}]}})
    assert main(["inspect", "web", "--no-install", "-q"]) == 3
    assert "agent is not installed" in capsys.readouterr().err


def test_inspect_forbidden_exec_is_exit_3(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    fake.add_pod({"metadata": {"name": "web", "namespace": "default", "uid": "0a1b2c3d-0000-4000-8000-00000000abcd"},
                  "spec": {"nodeName": "node-1"},
                  "status": {"phase": "Running", "containerStatuses": [
                      {"name": "web", "containerID": "containerd://" + "a" * 64, "state": {"running": {}}}]}})
    def make_pod(obj: dict[str, Any]) -> None:
        if obj["kind"] == "DaemonSet":
            fake.add_pod(pod_from(obj, "node-1"))
    fake.on_write = make_pod
    fake.forbid_exec = True
    assert main(["inspect", "web", "-q"]) == 3
    assert capsys.readouterr().err.endswith("forbidden\n")


def test_agent_status_and_uninstall_through_the_cli(fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "install"]) == 0
    assert main(["agent", "status"]) == 0
    assert main(["agent", "uninstall"]) == 0
    out = capsys.readouterr().out
    assert "DaemonSet/podnet-agent created" in out and "Namespace/podnet-system deleted" in out
    assert fake.objects == {}


# ---- bad input is caught where it is typed --------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["inspect", "Bad_Name!"], "pod name 'Bad_Name!' is not valid: a DNS-1123 subdomain"),
        (["inspect", "web", "-n", "BAD NS"], "-n 'BAD NS' is not a valid namespace: a DNS-1123 label"),
        (["inspect", "web", "--agent-namespace", "Bad NS"], "--agent-namespace 'Bad NS' is not a valid namespace"),
        (["inspect", "web", "--agent-image", "not a valid image!!"],
         "--agent-image 'not a valid image!!' is not a valid image reference"),
        (["agent", "install", "--print-only", "--agent-namespace", "Bad NS"],
         "--agent-namespace 'Bad NS' is not a valid namespace"),
        (["agent", "install", "--print-only", "--agent-image", ""], "--agent-image '' is not a valid image reference"),
        (["agent", "install", "--agent-image", "Upper/Case:1"], "--agent-image 'Upper/Case:1' is not a valid image"),
        (["agent", "status", "--agent-namespace", "-x"], "--agent-namespace '-x' is not a valid namespace"),
        (["agent", "rbac", "--agent-namespace", "a.b"], "--agent-namespace 'a.b' is not a valid namespace"),
    ],
)
def test_bad_names_and_images_are_one_line_exit_2_before_any_cluster_call(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_cluster(kubeconfig: str | None, context: str | None, timeout: float | None = None) -> None:
        raise AssertionError("the cluster was contacted")

    monkeypatch.setattr(cluster_opts, "connect", no_cluster)
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith(f"kubectl-podnet: error: {message}") and captured.err.count("\n") == 1
    assert captured.out == ""


@pytest.mark.parametrize(
    "image", ["python:3.12-slim", "docker.io/library/python:3.12-slim", "localhost/podnet/python:3.11-bookworm",
              "registry.local:5000/team/python@sha256:" + "a" * 64, "[::1]:5000/python:3"],
)
def test_good_image_references_are_accepted(image: str, capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    from kubectl_podnet.cluster.manifests import image_of

    assert main(["agent", "install", "--print-only", "--agent-image", image]) == 0
    assert image_of(list(yaml.safe_load_all(capsys.readouterr().out))[-1]) == image


def test_a_kubeconfig_that_is_not_yaml_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "config"
    broken.write_text("apiVersion: v1\nclusters: [\n  - {name: a\n")
    assert main(["inspect", "web", "--kubeconfig", str(broken)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"kubectl-podnet: error: kubeconfig {broken} is not YAML: ") and err.count("\n") == 1


def test_a_kubeconfig_from_the_environment_that_is_a_list_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = tmp_path / "config"
    listed.write_text("- just\n- a list\n")
    monkeypatch.setenv("KUBECONFIG", str(listed))
    assert main(["inspect", "web"]) == 2
    assert capsys.readouterr().err == (
        f"kubectl-podnet: error: kubeconfig {listed} is not a kubeconfig: a YAML mapping with clusters, users "
        "and contexts\n"
    )


def test_a_kubeconfig_that_is_a_directory_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(tmp_path))
    assert main(["inspect", "web"]) == 2
    assert capsys.readouterr().err.startswith(f"kubectl-podnet: error: kubeconfig {tmp_path} cannot be read: ")


def test_agent_rbac_prints_the_checked_in_least_privilege_manifest(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "rbac"]) == 0
    assert capsys.readouterr().out == (REPO / "manifests" / "inspect-rbac.yaml").read_text()


def test_inspect_with_another_image_than_the_installed_is_exit_2(
    fake: FakeCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.add_pod({"metadata": {"name": "web", "namespace": "default", "uid": "0a1b2c3d-0000-4000-8000-00000000abcd"},
                  "spec": {"nodeName": "node-1"},
                  "status": {"phase": "Running", "containerStatuses": [
                      {"name": "web", "containerID": "containerd://" + "a" * 64, "state": {"running": {}}}]}})
    assert main(["agent", "install", "--agent-image", "mirror.local/python:3.11"]) == 0
    assert main(["inspect", "web", "-q", "--agent-image", "python:3.12-slim"]) == 2
    assert capsys.readouterr().err == (
        "kubectl-podnet: error: the podnet agent is installed with image mirror.local/python:3.11, not "
        "python:3.12-slim (`kubectl podnet agent install --agent-image python:3.12-slim` is the way to switch it)\n"
    )


def test_max_parallel_below_one_is_usage_exit_2() -> None:
    assert main(["inspect", "web", "--max-parallel", "0"]) == 2

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
from tests.fakes import FakeCluster, running_agent_pod

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


def test_unknown_option_is_usage_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "web", "--bogus"]) == 2
    assert "No such option: --bogus" in capsys.readouterr().err


def test_bad_output_format_is_usage_exit_2() -> None:
    assert main(["inspect", "web", "-o", "xml"]) == 2


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
    monkeypatch.setattr(cluster_opts, "connect", lambda kubeconfig, context: cluster)
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
    fake.on_apply = lambda obj: obj["kind"] == "DaemonSet" and fake.add_pod(running_agent_pod("node-1"))
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

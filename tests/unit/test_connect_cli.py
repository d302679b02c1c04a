"""`connect`'s bad input: one line and a documented exit code, before any agent is asked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.app import main
from tests.fakes import FakeCluster

UID = "0a1b2c3d-0000-4000-8000-00000000abcd"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeCluster:
    cluster = FakeCluster(cache_dir=str(tmp_path))
    monkeypatch.setattr(cluster_opts, "connect", lambda kubeconfig, context, timeout=None: cluster)
    return cluster


def _pod(name: str, ips: list[str], node: str | None = "node-1", **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "uid": UID},
            "spec": {"nodeName": node} if node else {},
            "status": {"phase": "Running", "podIPs": [{"ip": ip} for ip in ips], "containerStatuses": [
                {"name": "web", "containerID": "containerd://" + "a" * 64, "state": {"running": {}}}], **status}}


@pytest.mark.parametrize(("argv", "code", "line"), [
    (["connect", "a", "a"], 2, "connect needs two pods: default/a was given twice"),
    (["connect", "a", "nope"], 3, "pod default/nope: not found"),
    (["connect", "a", "noip"], 2, "pod default/noip has no IP yet (phase Pending): nothing to connect to"),
    (["connect", "a", "unscheduled"], 3, "pod default/unscheduled is not scheduled to a node yet"),
    (["connect", "a", "v6"], 2, "the two pods share no IP family: nothing to connect over"),
    (["connect", "a", "b:http"], 2, "DST[:PORT]: 'http' is not a port (1-65535)"),
    (["connect", "a", "b:70000"], 2, "DST[:PORT]: '70000' is not a port (1-65535)"),
    (["connect", "a", "b", "-o", "junit"], 2, "connect prints text, json or yaml"),
])
def test_bad_input_is_one_line_and_its_exit_code(fake: FakeCluster, capsys: pytest.CaptureFixture[str],
                                                 argv: list[str], code: int, line: str) -> None:
    fake.add_pod(_pod("a", ["10.244.0.5"]))
    fake.add_pod(_pod("b", ["10.244.1.5"]))
    fake.add_pod({**_pod("noip", []), "status": {"phase": "Pending"}})
    fake.add_pod(_pod("unscheduled", ["10.244.1.9"], node=None))
    fake.add_pod(_pod("v6", ["fd00::5"]))
    assert main([*argv, "-q"]) == code
    assert capsys.readouterr().err == f"kubectl-podnet: error: {line}\n"


def test_a_user_who_may_not_read_nodes_or_policies_still_gets_the_hops_said(
        fake: FakeCluster, capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_podnet.cluster.connect import _optional

    fake.forbidden_kinds = {"Node", "NetworkPolicy"}
    said: list[str] = []
    assert _optional(fake.read, "Node", None, "node-1", said.append) is None
    assert _optional(fake.list_objects, "NetworkPolicy", "default", None, said.append) is None
    assert said == ["note: Node node-1: forbidden: connect goes on without it",
                    "note: list NetworkPolicy: forbidden: connect goes on without it"]

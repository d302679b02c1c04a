"""The sweep: -A, --all, --node and -l select pods; dead nodes cost their own pods an error each.

Runs on tests/simulated.py's SimulatedCluster: a fake API server and a fake agent answer
(no API server or node runs in unit tests), with everything of ours between them real.
No timing is asserted here; bench/sweep_scale.py measures it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import junitparser
import pytest

from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.app import main
from kubectl_podnet.cluster.agent import AgentManager
from kubectl_podnet.cluster.inspect_pods import inspect_pods
from kubectl_podnet.cluster.selection import Selection, skip_reason
from kubectl_podnet.errors import ClusterError, ExitStatus, PodnetError
from kubectl_podnet.model import PodNetReport
from kubectl_podnet.outcome import PodOutcome, Skipped, worst
from tests.simulated import SimulatedCluster, workload_pod

MISSING, NOT_READY, HANGS = 1, 2, 3  # node indexes of the three kinds of dead node


def _sweep(cluster: SimulatedCluster, selection: Selection, max_parallel: int = 4,
           tally: Any = None) -> list[PodOutcome]:
    return inspect_pods(cluster, selection, AgentManager(cluster), 0.5, True, lambda _: None,
                        max_parallel=max_parallel, **({"tally": tally} if tally else {}))


@pytest.fixture
def cluster() -> SimulatedCluster:
    return SimulatedCluster(8, 5, agent_missing=(MISSING,), agent_not_ready=(NOT_READY,), exec_hangs=(HANGS,),
                            finished_every=4)


@pytest.mark.parametrize("max_parallel", [1, 3, 16])
def test_each_dead_node_gives_its_own_pods_an_error_and_every_other_pod_reports(
    cluster: SimulatedCluster, max_parallel: int
) -> None:
    outcomes = _sweep(cluster, Selection(None), max_parallel)
    by_node: dict[str, Counter[str]] = {}
    for item in outcomes:
        if isinstance(item.outcome, Skipped):
            continue
        by_node.setdefault(item.node or "", Counter())[type(item.outcome).__name__] += 1
    dead = {cluster.node_names[i] for i in (MISSING, NOT_READY, HANGS)}
    for node, kinds in by_node.items():
        assert kinds == (Counter(AgentError=5) if node in dead and node != cluster.node_names[HANGS] else
                         Counter(ClusterError=5) if node in dead else Counter(PodNetReport=5)), (node, kinds)
    errors = {item.node: item.outcome.one_line() for item in outcomes if isinstance(item.outcome, PodnetError)}
    assert "no pod on node node-0001" in errors["node-0001"]
    assert "not ready on node-0002" in errors["node-0002"] and "ContainerCreating" in errors["node-0002"]
    assert "no answer within" in errors["node-0003"]
    assert worst(outcomes) is ExitStatus.CLUSTER


def test_every_report_is_its_own_pods(cluster: SimulatedCluster) -> None:
    for item in _sweep(cluster, Selection(None)):
        if isinstance(item.outcome, PodNetReport):
            assert (item.outcome.pod.namespace, item.outcome.pod.name, item.outcome.pod.node) == (
                item.namespace, item.name, item.node)


def test_a_sweep_skips_finished_pods_and_the_agent_itself_and_never_fails_on_them() -> None:
    cluster = SimulatedCluster(4, 3, finished_every=2)
    outcomes = _sweep(cluster, Selection(None))
    skipped = Counter((item.outcome.phase, item.outcome.reason) for item in outcomes
                      if isinstance(item.outcome, Skipped))
    assert skipped == {("Succeeded", "finished: its network namespace is gone"): 2,
                       ("Running", "the podnet agent itself"): 4}
    assert worst(outcomes) is ExitStatus.OK
    assert sum(isinstance(item.outcome, PodNetReport) for item in outcomes) == 12


def test_one_exec_per_live_node_whatever_its_pod_count(cluster: SimulatedCluster) -> None:
    _sweep(cluster, Selection(None))
    assert cluster.exec_count == len(cluster.node_names) - 2  # the missing and not-ready agents get none


def test_the_tally_ends_with_every_pod_done(cluster: SimulatedCluster) -> None:
    seen: list[tuple[int, int]] = []
    outcomes = _sweep(cluster, Selection(None), tally=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (len(outcomes), len(outcomes))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_namespace_node_and_selector_narrow_the_sweep(cluster: SimulatedCluster) -> None:
    team = _sweep(cluster, Selection("team-01"))
    assert {item.namespace for item in team} == {"team-01"}
    on_node = _sweep(cluster, Selection(None, node="node-0004"))
    assert {item.node for item in on_node} == {"node-0004"}
    assert any(item.namespace == "podnet-system" for item in on_node)  # any namespace: its agent, skipped
    labelled = _sweep(cluster, Selection(None, selector="app=app-1", node="node-0004"))
    assert [item.name for item in labelled] == ["app-node-0004-01"]


def test_a_sweep_that_finds_nothing_says_what_it_looked_for(cluster: SimulatedCluster) -> None:
    with pytest.raises(ClusterError, match="no pod in any namespace matches 'app=nope' and is on node node-0004"):
        _sweep(cluster, Selection(None, selector="app=nope", node="node-0004"))
    with pytest.raises(ClusterError, match="no pod in namespace empty is on node node-0004"):
        _sweep(cluster, Selection("empty", node="node-0004"))


# ---- skip_reason, pure -------------------------------------------------------------------

def _bent(**status: Any) -> dict[str, Any]:
    pod = workload_pod("node-0000", 1)
    pod["status"].update(status)
    return pod


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        (_bent(phase="Succeeded"), Skipped("Succeeded", "finished: its network namespace is gone")),
        (_bent(phase="Failed"), Skipped("Failed", "finished: its network namespace is gone")),
        (_bent(phase="Pending", containerStatuses=[{"name": "app", "state": {"waiting": {"reason": "ErrImagePull"}}}]),
         Skipped("Pending", "not running yet (app: ErrImagePull)")),
        (_bent(phase="Running"), None),
        (_bent(phase="Unknown"), None),  # a lost node: inspected, and its error says so
    ],
)
def test_what_a_sweep_skips(pod: dict[str, Any], expected: Skipped | None) -> None:
    assert skip_reason(pod, "podnet-system") == expected


def test_an_unscheduled_pod_and_a_terminating_one_are_skipped() -> None:
    pending = _bent(phase="Pending")
    del pending["spec"]["nodeName"]
    assert skip_reason(pending, "podnet-system") == Skipped("Pending", "not scheduled yet")
    leaving = _bent()
    leaving["metadata"]["deletionTimestamp"] = "2026-11-26T08:00:00Z"
    assert skip_reason(leaving, "podnet-system") == Skipped("Running", "terminating")


def test_host_network_pods_and_other_daemonsets_pods_are_inspected() -> None:
    pod = _bent()
    pod["spec"]["hostNetwork"] = True
    pod["metadata"]["ownerReferences"] = [{"kind": "DaemonSet", "name": "kube-proxy"}]
    assert skip_reason(pod, "podnet-system") is None


# ---- through the CLI ---------------------------------------------------------------------

@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimulatedCluster:
    cluster = SimulatedCluster(6, 4, agent_missing=(MISSING,), finished_every=3)
    monkeypatch.setattr(cluster_opts, "connect", lambda kubeconfig, context, timeout=None: cluster)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("PODNET_AGENT_IMAGE", "PODNET_AGENT_NAMESPACE", "PODNET_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return cluster


def test_inspect_all_namespaces_in_junit_has_a_case_per_pod_and_check(
    cli: SimulatedCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "-A", "-o", "junit", "-q", "--timeout", "1"]) == 3
    parsed = junitparser.JUnitXml.fromstring(capsys.readouterr().out)
    cases = [(suite.name, case.classname, case.name, type(case.result[0]).__name__ if case.result else "pass")
             for suite in parsed for case in suite]
    pods = {classname for _, classname, _, _ in cases}
    assert len(cases) == len(pods) * len(CHECK_IDS)
    assert len(pods) == 6 * 4 + 2 + 5  # the workloads, two finished pods, the five agents
    # workloads 0-3 and the finished pods (index 4) by their index's namespace; the agents in theirs
    assert {suite for suite, _, _, _ in cases} == {f"team-{i:02d}" for i in range(5)} | {"podnet-system"}
    kinds = Counter(kind for _, _, _, kind in cases)
    assert kinds == {"pass": 20 * len(CHECK_IDS), "Error": 4 * len(CHECK_IDS), "Skipped": 7 * len(CHECK_IDS)}


def test_inspect_all_of_a_namespace_prints_the_summary_table(
    cli: SimulatedCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", "--all", "-n", "team-02", "-q", "--timeout", "1"]) == 3
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["POD", "NODE", *CHECK_IDS, "VERDICT"]
    assert "team-02/app-node-0001-02: error: " in out  # its node's agent is missing
    assert out.endswith("6 pods: 5 passed, 0 failed a check, 1 could not be inspected, 0 skipped\n")


def test_inspect_node_in_json_lists_the_nodes_pods_of_every_namespace(
    cli: SimulatedCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    assert main(["inspect", "--node", "node-0003", "-o", "json", "-q"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert sorted(item["pod"]["name"] for item in listing["items"]) == [f"app-node-0003-{i:02d}" for i in range(4)]
    assert all(item["interfaces"] and item["containers"] for item in listing["items"])  # json keeps the facts
    assert listing["errors"] == []
    assert sorted(entry["reason"] for entry in listing["skipped"]) == ["finished: its network namespace is gone",
                                                                       "the podnet agent itself"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-A", "-n", "team-01"], "-A is every namespace: drop -n, or drop -A"),
        (["web", "-A"], "give pod names or a selection (-l, --all, -A, --node), not both"),
        (["web", "--node", "node-0001"], "give pod names or a selection (-l, --all, -A, --node), not both"),
        ([], "name a pod (or several), or select pods with -l, --all, -A or --node"),
        (["--node", "Node_1"], "--node (a node name) 'Node_1' is not valid: a DNS-1123 subdomain"),
    ],
)
def test_bad_selections_are_usage_errors(cli: SimulatedCluster, capsys: pytest.CaptureFixture[str],
                                         args: list[str], message: str) -> None:
    assert main(["inspect", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_max_parallel_is_bounded(cli: SimulatedCluster, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "-A", "--max-parallel", "0"]) == 2
    assert main(["inspect", "-A", "--max-parallel", "65"]) == 2
    capsys.readouterr()


# ---- --cleanup and the agent's settings --------------------------------------------------

@pytest.fixture
def bare(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> SimulatedCluster:
    """A cluster without the agent: this run installs it."""
    cluster = SimulatedCluster(3, 2, installed=False)
    monkeypatch.setattr(cluster_opts, "connect", lambda kubeconfig, context, timeout=None: cluster)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for name in ("PODNET_AGENT_IMAGE", "PODNET_AGENT_NAMESPACE", "PODNET_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return cluster


def _agent_left(cluster: SimulatedCluster, namespace: str = "podnet-system") -> list[Any]:
    return [key for key in list(cluster.objects) + list(cluster.pods) if namespace in key]


def test_cleanup_removes_the_agent_this_run_installed(bare: SimulatedCluster,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "-A", "--cleanup"]) == 0
    assert _agent_left(bare) == []
    captured = capsys.readouterr()
    assert "--cleanup: removing the podnet agent this run installed in podnet-system" in captured.err
    assert captured.out.endswith("6 pods: 6 passed, 0 failed a check, 0 could not be inspected, 0 skipped\n")


def test_cleanup_leaves_an_agent_that_was_there_before(cli: SimulatedCluster,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    before = _agent_left(cli)
    main(["inspect", "--node", "node-0000", "--cleanup"])
    assert _agent_left(cli) == before and before
    assert "was there before this run; left as it is" in capsys.readouterr().err


def test_without_cleanup_the_agent_this_run_installed_stays(bare: SimulatedCluster) -> None:
    assert main(["inspect", "-A", "-q"]) == 0
    assert ("DaemonSet", "podnet-system", "podnet-agent") in bare.objects


def test_the_agent_namespace_comes_from_the_environment(bare: SimulatedCluster, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PODNET_AGENT_NAMESPACE", "ops-podnet")
    assert main(["inspect", "--all", "-n", "team-00", "-q"]) == 0
    assert ("DaemonSet", "ops-podnet", "podnet-agent") in bare.objects
    assert not [key for key in bare.objects if key[1] == "podnet-system"]
    capsys.readouterr()


def test_the_agent_image_comes_from_the_config_file_and_the_flag_wins(
    bare: SimulatedCluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "kubectl-podnet").mkdir()
    (tmp_path / "kubectl-podnet" / "config.yaml").write_text("agentImage: mirror.example/python:3.12-slim\n")
    assert main(["agent", "install"]) == 0
    daemonset = bare.objects[("DaemonSet", "podnet-system", "podnet-agent")]
    assert daemonset["spec"]["template"]["spec"]["containers"][0]["image"] == "mirror.example/python:3.12-slim"
    assert main(["agent", "install", "--print-only", "--agent-image", "other.example/python:3.12"]) == 0
    assert "image: other.example/python:3.12\n" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PODNET_AGENT_IMAGE", "Not An Image", "PODNET_AGENT_IMAGE 'Not An Image' is not a valid image reference"),
        ("PODNET_AGENT_NAMESPACE", "Ops_NS", "PODNET_AGENT_NAMESPACE 'Ops_NS' is not a valid namespace"),
    ],
)
def test_a_bad_setting_in_the_environment_is_refused_naming_it(
    bare: SimulatedCluster, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    assert main(["inspect", "-A"]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1

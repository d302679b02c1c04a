"""On a real cluster: one user's inspect never breaks the shared agent, and every
failure says what really happened (image flap, install races, least privilege, crashing
containers, an agent pod the cluster refuses)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet, _run
from e2e.conftest import RUN_ID, RUN_LABEL
from e2e.leftovers import AGENT_NAMESPACE, Snapshot
from e2e.reports import checks, container, error_line, report_of
from e2e.test_errors import _token_kubeconfig

REVISION = "podnet.io/spec-revision"
OTHER_IMAGE = "docker.io/library/python:3.12-slim"


def _web(kubectl: Kubectl, namespace: str, image: str, *names: str) -> None:
    for name in names or ("web",):
        kubectl.apply(w.pod(name, [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, *(names or ("web",)))


def _daemonset(kubectl: Kubectl) -> dict[str, Any]:
    found: dict[str, Any] = kubectl.get("daemonset", "podnet-agent", "-n", AGENT_NAMESPACE)
    return found


def _image(daemonset: dict[str, Any]) -> str:
    return str(daemonset["spec"]["template"]["spec"]["containers"][0]["image"])


def _set_revision(kubectl: Kubectl, revision: str) -> None:
    """As a plugin of another spec revision would have left the DaemonSet (and so its pods)."""
    labels = {"metadata": {"labels": {REVISION: revision}}}
    patch = {**labels, "spec": {"template": labels}}
    kubectl("patch", "daemonset/podnet-agent", "-n", AGENT_NAMESPACE, "--type", "merge", "-p", json.dumps(patch))
    kubectl("rollout", "status", "-n", AGENT_NAMESPACE, "daemonset/podnet-agent", "--timeout=180s", timeout=200)


@pytest.mark.usefixtures("agent_ready")
def test_the_installed_agent_image_never_changes_implicitly_and_upgrades_only_forward(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    _web(kubectl, namespace, image)
    before = _daemonset(kubectl)
    installed, generation = _image(before), before["metadata"]["generation"]
    plain = Podnet(podnet.kubeconfig, None, history=podnet.history)  # no --agent-image, as most users type it

    report_of(plain.inspect("web", namespace), 0)
    other = error_line(plain.inspect("web", namespace, "--agent-image", OTHER_IMAGE), code=2)
    typo = error_line(plain.inspect("web", namespace, "--agent-image", "not a valid image!!"), code=2)

    print(other, typo, sep="\n")
    assert f"installed with image {installed}, not {OTHER_IMAGE}" in other, other
    assert f"kubectl podnet agent install --agent-image {OTHER_IMAGE}" in other, other
    assert "is not a valid image reference" in typo, typo
    after = _daemonset(kubectl)
    assert (_image(after), after["metadata"]["generation"]) == (installed, generation)

    try:
        _set_revision(kubectl, "0")  # a DaemonSet from a plugin before spec revisions
        upgraded = plain.inspect("web", namespace)
        report_of(upgraded, 0)
        assert "upgrading the podnet agent" in upgraded.stderr, upgraded.describe()
        now = _daemonset(kubectl)
        assert now["metadata"]["labels"][REVISION] == "1" and _image(now) == installed

        _set_revision(kubectl, "99")  # a newer plugin's: never downgraded, never rewritten
        generation = _daemonset(kubectl)["metadata"]["generation"]
        report_of(plain.inspect("web", namespace), 0)
        now = _daemonset(kubectl)
        assert (now["metadata"]["labels"][REVISION], now["metadata"]["generation"]) == ("99", generation)
    finally:
        _set_revision(kubectl, "1")


def test_two_cold_inspects_at_once_both_succeed_ten_times(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    _web(kubectl, namespace, image, "web-a", "web-b")
    for round_ in range(10):
        done = podnet("agent", "uninstall", "--timeout", "120")
        assert done.code == 0 and ours_in_cluster.agent_objects() == [], done.describe()
        args = ("-n", namespace, "-o", "json", "--timeout", "120")
        with podnet.start("inspect", "web-a", *args) as first, podnet.start("inspect", "web-b", *args) as second:
            runs = first.finish(), second.finish()
        print(f"round {round_ + 1}: exits {[r.code for r in runs]} in {[round(r.seconds, 1) for r in runs]}s")
        for run in runs:
            report_of(run, 0)


def test_a_user_bound_to_the_least_privilege_rbac_inspects_with_no_daemonset_rights(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, agent_ready: None, tmp_path: Path
) -> None:
    _web(kubectl, namespace, image)
    printed = _run([*podnet.argv0, "agent", "rbac"], None, 60)  # prints only: no cluster options
    assert printed.code == 0, printed.describe()
    role, binding, reader, _cluster_binding = yaml.safe_load_all(printed.stdout)
    viewer = [{"kind": "ServiceAccount", "name": "viewer", "namespace": namespace}]
    reader["metadata"]["name"] = f"podnet-inspect-pods-{RUN_ID}"
    # the agent namespace exactly as printed; pod reading in this namespace only (a RoleBinding
    # to the printed ClusterRole, the narrow form of its ClusterRoleBinding)
    here = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "podnet-inspect-pods", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": reader["metadata"]["name"]}, "subjects": viewer}
    binding["subjects"] = viewer
    kubectl("create", "serviceaccount", "viewer", "-n", namespace)
    try:
        kubectl.apply(role, binding, namespace=AGENT_NAMESPACE)
        kubectl.apply(reader, here, namespace=namespace)
        who = f"--as=system:serviceaccount:{namespace}:viewer"
        for verb, what, where in (("get", "daemonsets", AGENT_NAMESPACE), ("list", "events", AGENT_NAMESPACE),
                                  ("list", "pods", "default")):
            allowed = kubectl("auth", "can-i", verb, what, "-n", where, who, check=False)
            assert allowed.stdout.strip() == "no", allowed.describe()
        user = Podnet(str(_token_kubeconfig(tmp_path / "viewer.kubeconfig", kubectl, namespace, "viewer")),
                      podnet.agent_image, history=podnet.history)

        for extra in (("--no-install",), ()):
            run = user.inspect("web", namespace, *extra)
            report_of(run, 0)
            assert "forbidden" not in run.stderr, run.describe()
    finally:
        kubectl("delete", "rolebinding,role", "podnet-inspect", "-n", AGENT_NAMESPACE, "--ignore-not-found",
                check=False)
        kubectl("delete", "clusterrole", reader["metadata"]["name"], "--ignore-not-found", check=False)


def _crashing(kubectl: Kubectl, namespace: str) -> dict[str, Any]:
    """The pod once `crash` waits in CrashLoopBackOff after at least two runs (back-off >= 20 s)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        pod: dict[str, Any] = kubectl.get("pod", "web", "-n", namespace)
        for entry in pod["status"].get("containerStatuses") or []:
            waiting = (entry.get("state") or {}).get("waiting") or {}
            if entry["name"] == "crash" and entry.get("restartCount", 0) >= 2 and waiting.get("reason") == \
                    "CrashLoopBackOff":
                return pod
        time.sleep(1)
    raise AssertionError(f"crash never reached CrashLoopBackOff: {json.dumps(pod['status'])[-800:]}")


def test_a_crashing_container_and_a_finished_init_are_in_the_report_with_their_state(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    crash = {"name": "crash", "image": image, "imagePullPolicy": "IfNotPresent", "command": ["sh", "-c", "exit 3"]}
    prepare = {"name": "prepare", "image": image, "imagePullPolicy": "IfNotPresent", "command": ["true"]}
    kubectl.apply(w.pod("web", [w.server("server", image, 8080), crash], init_containers=[prepare]),
                  namespace=namespace)
    _crashing(kubectl, namespace)

    report = report_of(podnet.inspect("web", namespace), 0)

    state = container(report, "crash")["status"]
    print(json.dumps({c["name"]: c["status"] for c in report["containers"]}, indent=1))
    assert state["state"] == "waiting" and state["reason"] == "CrashLoopBackOff", state
    assert state["lastExitCode"] == 3 and state["restartCount"] >= 2, state
    assert container(report, "prepare")["status"] == {
        "state": "terminated", "reason": "Completed", "exitCode": 0, "lastExitCode": None, "restartCount": 0}
    assert container(report, "prepare")["role"] == "init"
    shared = checks(report)["shared-netns"]
    assert shared["status"] == "warn", shared
    assert "not running: crash (waiting: CrashLoopBackOff, last exit code 3" in shared["summary"], shared
    assert "prepare" not in shared["summary"].split("not running:", 1)[1], shared


def test_an_agent_namespace_enforcing_pod_security_baseline_is_named_as_the_refusal(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    _web(kubectl, namespace, image)
    denied = f"e2e-podnet-denied-{RUN_ID}"
    kubectl.create_namespace(denied, f"{RUN_LABEL}={RUN_ID}", "pod-security.kubernetes.io/enforce=baseline")
    try:
        line = error_line(podnet.inspect("web", namespace, "--agent-namespace", denied, "--timeout", "45"))
        status = podnet("agent", "status", "--agent-namespace", denied)

        print(line, status.stdout, sep="\n")
        assert "the podnet agent DaemonSet cannot create its pod on" in line, line
        assert "PodSecurity" in line and "baseline" in line, line
        assert "cannot create its pods:" in status.stdout and "PodSecurity" in status.stdout, status.describe()
    finally:
        podnet("agent", "uninstall", "--agent-namespace", denied, "--timeout", "120")
        kubectl("delete", "namespace", denied, "--wait=true", "--timeout=120s", check=False, timeout=150)

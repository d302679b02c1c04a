"""Scenarios 7 and 8: the agent's life (cold, warm, uninstall, --no-install) and losing its pod mid-run.

These tests uninstall the agent to start cold, so they do not depend on the order the
other files run in; the agent is left installed only by tests that need it.
"""

from __future__ import annotations

import re
import time

import pytest

from e2e import clusters
from e2e import workloads as w
from e2e.clients import Kubectl, Podnet, Run
from e2e.leftovers import AGENT_NAMESPACE, Snapshot
from e2e.reports import error_line, report_of
from kubectl_podnet.cluster.manifests import DEFAULT_IMAGE

INSTALLING = "installing the podnet agent"
SENDING = "sending the agent code"
WAITING = "waiting for the podnet agent"


def _web(kubectl: Kubectl, namespace: str, image: str) -> None:
    kubectl.apply(w.pod("web", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")


def _uninstall(podnet: Podnet, ours: Snapshot) -> None:
    done = podnet("agent", "uninstall", "--timeout", "120")
    assert done.code == 0, done.describe()
    assert ours.agent_objects() == [], "agent uninstall returned but objects are left"


def test_agent_is_installed_by_the_first_inspect_warm_on_the_second_and_uninstalled_without_a_trace(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    _web(kubectl, namespace, image)
    _uninstall(podnet, ours_in_cluster)

    cold = podnet.inspect("web", namespace)
    report_of(cold, 0)
    assert INSTALLING in cold.stderr, cold.describe()
    assert SENDING in cold.stderr, cold.describe()
    print(f"cold inspect (install + code sent): {cold.seconds:.2f}s")

    warm = podnet.inspect("web", namespace)
    report_of(warm, 0)
    assert INSTALLING not in warm.stderr and SENDING not in warm.stderr, warm.describe()
    print(f"warm inspect: {warm.seconds:.2f}s")

    status = podnet("agent", "status")
    ready = re.search(r"(\d+)/(\d+) ready", status.stdout)
    assert status.code == 0 and ready and ready.group(1) == ready.group(2) != "0", status.describe()

    _uninstall(podnet, ours_in_cluster)
    assert "not installed" in podnet("agent", "status").stdout


def test_no_install_without_the_agent_fails_in_one_line_and_installs_nothing(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    _web(kubectl, namespace, image)
    _uninstall(podnet, ours_in_cluster)

    line = error_line(podnet.inspect("web", namespace, "--no-install"))

    print(line)

    assert "not installed" in line and AGENT_NAMESPACE in line, line
    assert "agent install" in line, f"no hint how to install: {line}"
    assert ours_in_cluster.agent_objects() == []


def _delete_agent_pods(kubectl: Kubectl, names: list[str]) -> Run:
    return kubectl("delete", "-n", AGENT_NAMESPACE, *names, "--grace-period=0", "--force", "--wait=false")


def _rerun_recovers(podnet: Podnet, namespace: str) -> None:
    rerun = podnet.inspect("web", namespace)
    report_of(rerun, 0)
    print(f"rerun exit {rerun.code} in {rerun.seconds:.2f}s")


def _used_pod(run: Run) -> str | None:
    """The agent pod the plugin sent its code to (a fresh agent pod always needs it)."""
    used = re.findall(rf"to pod {AGENT_NAMESPACE}/(\S+)", run.stderr)
    return f"pod/{used[-1]}" if used else None


ATTEMPTS = 4  # the deletion races a real run: a round where it lands elsewhere is redone


def test_agent_pod_deleted_while_inspect_waits_for_it_is_ridden_through_on_its_replacement(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    """The plugin keeps polling for a live agent pod: deleting the first one before it is
    used must end in a report from the replacement (exit 0), never an error."""
    _web(kubectl, namespace, image)
    for attempt in range(1, ATTEMPTS + 1):
        _uninstall(podnet, ours_in_cluster)
        with podnet.start("inspect", "web", "-n", namespace, "-o", "json", "--timeout", "120") as running:
            assert running.wait_for_line(INSTALLING, 60), "the plugin did not start installing"
            deadline, pods = time.monotonic() + 60, list[str]()
            while not pods and time.monotonic() < deadline:
                pods = ours_in_cluster.agent_pods()
                time.sleep(0.1)
            assert pods, "the DaemonSet made no agent pod"
            _delete_agent_pods(kubectl, pods)
            run = running.finish()
        print(f"attempt {attempt}, the plugin's stderr:\n{run.stderr.rstrip()}")
        if run.code == 0 and _used_pod(run) in pods:
            print("the deleted pod was used before the deletion landed: not this path, again")
            continue
        report_of(run, 0)
        assert _used_pod(run) not in pods, run.describe()
        _rerun_recovers(podnet, namespace)
        return
    pytest.fail(f"in {ATTEMPTS} attempts the deletion never landed before the pod was used")


STALLED_PORTS = list(range(9100, 9108))  # 8 ports x (127.0.0.1 + pod IP) x 0.5 s: a run of ~8 s


def test_agent_pod_deleted_while_inspect_runs_in_it_is_reported_by_name_and_a_rerun_recovers(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot, target: clusters.Target
) -> None:
    """Killing the agent pod during its exec must end in one line naming that pod (exit 3).

    The inspected pod's listeners never accept (full accept queues), so the agent's run in
    the pod lasts its probe timeouts, seconds, and the kill lands inside it for sure; a run
    that is fast on a quiet machine left the window to chance."""
    _web(kubectl, namespace, image)
    python = target.agent_image or DEFAULT_IMAGE
    kubectl.apply(w.pod("slow", [w.stalled_listeners("listeners", python, STALLED_PORTS)]), namespace=namespace)
    kubectl.wait_ready(namespace, "slow")
    for attempt in range(1, ATTEMPTS + 1):
        _uninstall(podnet, ours_in_cluster)
        installed = podnet("agent", "install")
        assert installed.code == 0, installed.describe()
        kubectl("rollout", "status", "-n", AGENT_NAMESPACE, "daemonset/podnet-agent", "--timeout=180s", timeout=200)
        with podnet.start("inspect", "slow", "-n", namespace, "-o", "json", "--timeout", "60") as running:
            # a fresh agent pod has no code cached: the run sends it, then probes for seconds
            line = running.wait_for_line(SENDING, 60)
            assert line, "the plugin never started sending its code to the agent (its run is in the dump)"
            found = re.search(rf"to pod {AGENT_NAMESPACE}/(\S+)", line)
            assert found, line
            _delete_agent_pods(kubectl, [f"pod/{found.group(1)}"])
            run = running.finish()
        print(f"attempt {attempt}, exit {run.code}, the plugin's stderr:\n{run.stderr.rstrip()}")
        if run.code != 3:
            print("the old pod finished its run before the kill reached it: not this path, again")
            continue
        error = error_line(run)
        assert f"{AGENT_NAMESPACE}/{found.group(1)}" in error, error
        assert "went away during the inspect" in error or "gave no result" in error, error
        _rerun_recovers(podnet, namespace)
        return
    pytest.fail(f"in {ATTEMPTS} attempts the old pod always finished before the kill reached it")

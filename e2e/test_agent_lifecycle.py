"""Scenarios 7 and 8: the agent's life (cold, warm, uninstall, --no-install) and losing its pod mid-run.

These tests uninstall the agent to start cold, so they do not depend on the order the
other files run in; the agent is left installed only by tests that need it.
"""

from __future__ import annotations

import re
import time

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet, Run
from e2e.leftovers import AGENT_NAMESPACE, Snapshot
from e2e.reports import error_line, report_of

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


def _outcome_reported_then_rerun_recovers(
    run: Run, deleted: list[str], podnet: Podnet, namespace: str
) -> str:
    """A deleted agent pod ends the run with one clear line (exit 3); or the run succeeds,
    because the plugin waited for the replacement pod or the old one finished first. In
    every case the next run works."""
    if run.code == 3:
        line = error_line(run)
        assert "agent" in line or AGENT_NAMESPACE in line, line
        outcome = f"reported: {line}"
    else:
        report_of(run, 0)
        used = re.findall(rf"to pod {AGENT_NAMESPACE}/(\S+)", run.stderr)
        if used and f"pod/{used[-1]}" in deleted:
            outcome = "the deleted pod finished its run before the kill reached it"
        else:
            outcome = "rode through: waited for the replacement agent pod"
    print(f"the plugin's stderr:\n{run.stderr.rstrip()}")
    rerun = podnet.inspect("web", namespace)
    report_of(rerun, 0)
    print(f"{outcome}; rerun exit {rerun.code} in {rerun.seconds:.2f}s")
    return outcome


def test_agent_pod_deleted_while_inspect_waits_for_it_is_survived_or_reported_and_a_rerun_recovers(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    _web(kubectl, namespace, image)
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

    _outcome_reported_then_rerun_recovers(run, pods, podnet, namespace)


def test_agent_pod_deleted_while_inspect_runs_in_it_ends_cleanly_and_a_rerun_recovers(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    _web(kubectl, namespace, image)
    _uninstall(podnet, ours_in_cluster)
    # a fresh agent pod has no code cached: the run must send it, which gives us a window
    installed = podnet("agent", "install")
    assert installed.code == 0, installed.describe()
    kubectl("rollout", "status", "-n", AGENT_NAMESPACE, "daemonset/podnet-agent", "--timeout=180s", timeout=200)

    with podnet.start("inspect", "web", "-n", namespace, "-o", "json", "--timeout", "60") as running:
        line = running.wait_for_line(SENDING, 60)
        assert line, "the plugin never started sending its code to the agent (its run is in the dump)"
        target = re.search(rf"to pod {AGENT_NAMESPACE}/(\S+)", line)
        assert target, line
        deleted = [f"pod/{target.group(1)}"]
        _delete_agent_pods(kubectl, deleted)
        run = running.finish()

    _outcome_reported_then_rerun_recovers(run, deleted, podnet, namespace)

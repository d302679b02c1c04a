"""Scenario: the sweep as a CI gate (`inspect -A -o junit`), its selections, --cleanup and `agent status`.

The cluster's whole pod list is compared with what the sweep reports, so these tests
hold for whatever else runs in the cluster: every pod appears once, each with a test
case per check; the pods this test made not-running are skipped, never failed.
"""

from __future__ import annotations

import re
from typing import Any

import junitparser

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet
from e2e.leftovers import AGENT_NAMESPACE, Snapshot
from kubectl_podnet.checks.registry import CHECK_IDS


def _finished(name: str, image: str) -> dict[str, Any]:
    done = w.pod(name, [{"name": "once", "image": image, "imagePullPolicy": "IfNotPresent", "command": ["true"]}])
    done["spec"]["restartPolicy"] = "Never"
    return done


def _workloads(kubectl: Kubectl, namespace: str, image: str) -> str:
    """A running web pod, a finished one on web's node and one that can never be scheduled; web's node.

    `once` is pinned to web's node so that a sweep narrowed to that node has both a pod
    to inspect and one to skip, whichever node the scheduler picks for web."""
    kubectl.apply(
        w.pod("web", [w.server("server", image, 8080)]),
        w.pod("nowhere", [w.idle("idle", image)], node_selector={"podnet-e2e/no-such-node": "true"}),
        namespace=namespace,
    )
    kubectl.wait_ready(namespace, "web")
    node = kubectl.get("pod", "web", "-n", namespace)["spec"]["nodeName"]
    hostname = kubectl.get("node", node)["metadata"]["labels"]["kubernetes.io/hostname"]
    once = _finished("once", image)
    once["spec"]["nodeSelector"] = {"kubernetes.io/hostname": hostname}
    kubectl.apply(once, namespace=namespace)
    kubectl("wait", "-n", namespace, "--for=jsonpath={.status.phase}=Succeeded", "pod/once", "--timeout=120s",
            timeout=150)
    return str(node)


def _all_pods(kubectl: Kubectl) -> set[str]:
    return {f"{p['metadata']['namespace']}.{p['metadata']['name']}" for p in kubectl.get("pods", "-A")["items"]}


def test_inspect_all_namespaces_in_junit_has_a_case_per_pod_and_check_and_skips_what_does_not_run(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, agent_ready: None
) -> None:
    _workloads(kubectl, namespace, image)
    before = _all_pods(kubectl)
    run = podnet("inspect", "-A", "-o", "junit", "--timeout", "120")
    after = _all_pods(kubectl)
    assert run.code in (0, 1, 3), run.describe()
    parsed = junitparser.JUnitXml.fromstring(run.stdout)
    cases = {(case.classname, case.name): case for suite in parsed for case in suite}
    pods = {classname for classname, _ in cases}
    assert before & after <= pods <= before | after, (sorted(pods), sorted(before), sorted(after))
    assert set(cases) == {(pod, check) for pod in pods for check in CHECK_IDS}
    print(f"inspect -A -o junit: {len(pods)} pods, {len(cases)} test cases, exit {run.code}, {run.seconds:.2f}s")

    def results(pod: str) -> set[str]:
        found = set()
        for check in CHECK_IDS:
            result = cases[(f"{namespace}.{pod}", check)].result
            found |= {type(r).__name__ for r in result} if result else {"passed"}
        return found

    assert results("web") == {"passed"}, run.stdout
    assert results("once") == results("nowhere") == {"Skipped"}
    once = cases[(f"{namespace}.once", CHECK_IDS[0])].result[0]
    nowhere = cases[(f"{namespace}.nowhere", CHECK_IDS[0])].result[0]
    assert once.message == "pod Succeeded: finished: its network namespace is gone"
    assert nowhere.message == "pod Pending: not scheduled yet"
    agent = [pod for pod in pods if pod.startswith(f"{AGENT_NAMESPACE}.")]
    assert agent and all(cases[(pod, CHECK_IDS[0])].result[0].message.endswith("the podnet agent itself")
                         for pod in agent)
    failed = any(isinstance(r, junitparser.Failure) for case in cases.values() for r in case.result)
    errored = any(isinstance(r, junitparser.Error) for case in cases.values() for r in case.result)
    assert run.code == (3 if errored else 1 if failed else 0), run.describe()


def test_inspect_all_namespaces_prints_a_row_per_pod(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, agent_ready: None
) -> None:
    _workloads(kubectl, namespace, image)
    run = podnet("inspect", "-A", "--timeout", "120")
    lines = run.stdout.splitlines()
    assert lines[0].split() == ["POD", "NODE", *CHECK_IDS, "VERDICT"], run.describe()
    rows = {line.split()[0]: line.split()[-1] for line in lines[1:] if line.strip() and "/" in line.split()[0]
            and len(line.split()) >= len(CHECK_IDS) + 3}
    assert rows[f"{namespace}/web"] in ("PASS", "WARN"), run.describe()
    assert re.search(rf"^{namespace}/once .* SKIPPED \(Succeeded\)$", run.stdout, re.M), run.describe()
    assert re.search(rf"^{namespace}/nowhere .* SKIPPED \(Pending\)$", run.stdout, re.M), run.describe()
    assert re.search(r"^\d+ pods: \d+ passed, \d+ failed a check, \d+ could not be inspected, \d+ skipped$",
                     lines[-1]), run.describe()
    print(run.stdout)


def test_all_of_a_namespace_and_node_with_a_selector_narrow_the_sweep(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, agent_ready: None
) -> None:
    node = _workloads(kubectl, namespace, image)
    everything = podnet("inspect", "--all", "-n", namespace, "-o", "json", "--timeout", "120")
    assert everything.code == 0, everything.describe()
    listing = everything.json()
    assert [item["pod"]["name"] for item in listing["items"]] == ["web"]
    assert sorted(entry["name"] for entry in listing["skipped"]) == ["nowhere", "once"]
    on_node = podnet("inspect", "--node", node, "-n", namespace, "-l", "app.kubernetes.io/part-of=podnet-e2e",
                     "-o", "json", "--timeout", "120")
    assert on_node.code == 0, on_node.describe()
    assert [item["pod"]["name"] for item in on_node.json()["items"]] == ["web"]
    assert [entry["name"] for entry in on_node.json()["skipped"]] == ["once"]  # `nowhere` is on no node


def test_cleanup_removes_the_agent_this_run_installed_and_only_that(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    kubectl.apply(w.pod("web", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")
    assert podnet("agent", "uninstall", "--timeout", "120").code == 0
    assert ours_in_cluster.agent_objects() == []

    cold = podnet("inspect", "--all", "-n", namespace, "--cleanup", "--timeout", "120")
    assert cold.code == 0, cold.describe()
    assert "removing the podnet agent this run installed" in cold.stderr, cold.describe()
    assert ours_in_cluster.agent_objects() == [], "--cleanup returned but the agent is left"

    install = podnet("agent", "install")
    assert install.code == 0, install.describe()
    warm = podnet("inspect", "web", "-n", namespace, "--cleanup", "--timeout", "120")
    assert warm.code == 0, warm.describe()
    assert "was there before this run; left as it is" in warm.stderr, warm.describe()
    assert ours_in_cluster.agent_pods(), "--cleanup removed an agent this run did not install"


def test_agent_status_says_when_each_agent_was_last_used(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, agent_ready: None
) -> None:
    kubectl.apply(w.pod("web", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")
    assert podnet.inspect("web", namespace).code == 0
    status = podnet("agent", "status")
    assert status.code == 0, status.describe()
    print(status.stdout)
    assert re.search(r"^  podnet-agent-\S+ on \S+: Running, last used \d+s ago \(\d{4}-\d\d-\d\d [\d:]+ UTC\)$",
                     status.stdout, re.M), status.describe()

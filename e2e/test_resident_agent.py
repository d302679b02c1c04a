"""The resident agent on a real node: warm runs are answered by one long-lived process.

Proof, not timing: with PODNET_DEBUG=1 the plugin says which process answered (the
resident agent's pid, from the agent's envelope); that pid is the one in the pidfile in
the agent pod's cache, and it is still alive after the execs that started and used it
ended (a detached process in the agent container survives the exec). Deleting the agent
pod during a warm run gives one of the documented results, and takes its resident agent
with it (the cache is an emptyDir): the new pod gets its own.
"""

from __future__ import annotations

import os
import re

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet, Run, _run
from e2e.leftovers import AGENT_NAMESPACE, Snapshot
from e2e.reports import error_line, report_of
from e2e.test_agent_lifecycle import _delete_agent_pods, _rerun_recovers

RESIDENT = re.compile(r"answered from its resident agent \(pid (\d+)\)")
INLINE = "answered from an agent started for this run"


def _debug_inspect(podnet: Podnet, namespace: str) -> Run:
    argv = podnet.argv("inspect", "web", "-n", namespace, "-o", "json", "--timeout", "120")
    run = _run(argv, None, 240, env={**os.environ, "PODNET_DEBUG": "1"})
    podnet.history.append(run)
    report_of(run, 0)
    return run


def _resident_pid(run: Run) -> int | None:
    found = RESIDENT.findall(run.stderr)
    return int(found[-1]) if found else None


def _in_agent_pod(kubectl: Kubectl, agent: str, script: str) -> str:
    return kubectl("exec", "-n", AGENT_NAMESPACE, agent, "-c", "agent", "--", "python3", "-c", script).stdout


_SERVERS = (
    "import glob, os\n"
    "for f in glob.glob('/var/cache/podnet/*/agent.pid'):\n"
    "    pid = open(f).read().split()[0]\n"
    "    print(pid, os.path.isdir('/proc/' + pid))\n"
)


def test_warm_runs_are_answered_by_one_resident_agent_that_outlives_the_execs_and_dies_with_its_pod(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str, ours_in_cluster: Snapshot
) -> None:
    kubectl.apply(w.pod("web", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")
    first = _debug_inspect(podnet, namespace)  # may install, send the code, run inline
    warm = [_debug_inspect(podnet, namespace) for _ in range(3)]
    pids = [_resident_pid(run) for run in warm]
    print(f"first run: {first.stderr.strip().splitlines()[-1]}; warm runs answered by pids {pids}")
    assert pids[0] is not None and pids == [pids[0]] * 3, [run.describe() for run in warm]
    assert report_of(warm[-1], 0)["checks"] == report_of(first, 0)["checks"]

    node = kubectl.get("pod", "web", "-n", namespace)["spec"]["nodeName"]
    (agent,) = [name.split("/", 1)[1] for name in ours_in_cluster.agent_pods(node)]
    servers = _in_agent_pod(kubectl, agent, _SERVERS).split()
    assert servers == [str(pids[0]), "True"], servers  # one server, alive after every exec ended

    # deleted as a warm run starts: it races the resident agent's answer, so any of the
    # documented outcomes may come: the old pod answered first (exit 0), the plugin used the
    # replacement (exit 0), or one line naming the pod that went away (exit 3)
    with podnet.start("inspect", "web", "-n", namespace, "-o", "json", "--timeout", "60") as running:
        _delete_agent_pods(kubectl, [f"pod/{agent}"])
        run = running.finish()
    print(f"deleted during a warm run: exit {run.code}\n{run.stderr.rstrip()}")
    if run.code == 0:
        report_of(run, 0)
    else:
        error = error_line(run)
        assert f"{AGENT_NAMESPACE}/{agent}" in error, error
        assert "went away during the inspect" in error or "gave no result" in error, error
    _rerun_recovers(podnet, namespace)
    after = _debug_inspect(podnet, namespace)
    (replacement,) = [name.split("/", 1)[1] for name in ours_in_cluster.agent_pods(node)]
    assert replacement != agent
    pid = _resident_pid(after)
    assert pid is not None and _in_agent_pod(kubectl, replacement, _SERVERS).split() == [str(pid), "True"]

"""The cluster's nodes, and on the kind cluster their containers (docker) and containerd events.

On kind each node is a docker container named like the node; `e2e/run.sh` runs the suite
inside the kind cluster's network namespace with DOCKER_HOST and `docker` on PATH
(testbeds.kindcluster), so a test can stop a node or watch its containerd.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import datetime

from e2e.clients import Kubectl


def node_names(kubectl: Kubectl) -> list[str]:
    return sorted(item["metadata"]["name"] for item in kubectl.get("nodes")["items"])


def docker() -> str | None:
    """The docker client that reaches the kind nodes, or None (not the kind cluster)."""
    found = shutil.which("docker")
    if not found or not os.environ.get("DOCKER_HOST"):
        return None
    return found


def docker_run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker() or "docker", *args], capture_output=True, text=True, timeout=timeout)


@dataclass(frozen=True)
class ExecEvent:
    """A containerd task event of an exec: `exec-started` or `exit`, with its time."""

    when: datetime
    topic: str
    container_id: str
    exec_id: str


def parse_events(text: str) -> list[ExecEvent]:
    """Pure: `ctr events` lines (`2026-11-26 08:20:00.123456789 +0000 UTC k8s.io /tasks/exit {...}`)
    -> the exec-started and exit events of execs (not of the container's own task)."""
    import json

    found = []
    for line in text.splitlines():
        parts = line.split(" ", 6)
        if len(parts) < 7 or parts[5] not in ("/tasks/exec-started", "/tasks/exit"):
            continue
        try:
            body = json.loads(parts[6])
        except ValueError:
            continue
        exec_id = body.get("exec_id") or ("" if parts[5] == "/tasks/exit" else None)
        if parts[5] == "/tasks/exit":
            exec_id = body.get("id", "")
            if exec_id == body.get("container_id"):
                continue  # the container's own task ended, not an exec
        if not exec_id:
            continue
        stamp = parts[0] + " " + parts[1][:15]  # microseconds are enough
        when = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f")
        found.append(ExecEvent(when, parts[5].rsplit("/", 1)[1], body.get("container_id", ""), exec_id))
    return found


class EventWatch:
    """`ctr events` on each node, from start to stop (docker exec into the node container)."""

    def __init__(self, nodes: list[str]) -> None:
        self.procs = {
            node: subprocess.Popen([docker() or "docker", "exec", node, "timeout", "300", "ctr", "--namespace", "k8s.io", "events"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            for node in nodes
        }

    def stop(self) -> dict[str, list[ExecEvent]]:
        found = {}
        for node, proc in self.procs.items():
            proc.terminate()
            out, _ = proc.communicate(timeout=30)
            found[node] = parse_events(out)
        return found


def _after(stamp: str | None, since: datetime) -> bool:
    if not stamp:
        return False
    return datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S") >= since.replace(microsecond=0)


def node_back(kubectl: Kubectl, node: str, since: datetime) -> list[str]:
    """What still shows the node as it was before `since` (UTC): empty once its kubelet has
    renewed its lease since then and every pod on it runs containers started since then and
    is Ready. (Within the node-monitor grace period the API still says Ready throughout.)"""
    waiting = []
    lease = kubectl.get("lease", node, "-n", "kube-node-lease", check=False) or {}
    if not _after(lease.get("spec", {}).get("renewTime"), since):
        waiting.append(f"lease of {node} not renewed since the restart")
    pods = kubectl.get("pods", "-A", "--field-selector", f"spec.nodeName={node}")["items"]
    for pod in pods:
        name = f"{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        if pod["metadata"]["namespace"] == "kube-system" and pod["metadata"]["name"].endswith(node):
            continue  # static pods (none on a worker)
        statuses = pod.get("status", {}).get("containerStatuses") or []
        fresh = statuses and all(_after((s.get("state", {}).get("running") or {}).get("startedAt"), since)
                                 and s.get("ready") for s in statuses)
        if not fresh:
            waiting.append(f"pod {name} not running again since the restart")
    return waiting

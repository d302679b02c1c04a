"""A fake of our own ClusterPort (never of urllib3): the API as dicts in memory.

Its `exec` does for real what the API server and kubelet would do with an exec: it runs
the argv as a local process, optionally inside a netns (the lab node standing in for
the agent pod's hostNetwork), feeds stdin and returns stdout, stderr and the exit code.
That is the one edge we fake, because no API server runs in unit tests.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from kubectl_podnet.cluster.port import ExecResult
from kubectl_podnet.errors import ClusterError
from kubectl_podnet.node.nsenter import enter_netns
from kubectl_podnet.node.procfs import NETNS_DIR

Obj = dict[str, Any]


class FakeCluster:
    def __init__(self, netns: str | None = None, cache_dir: str | None = None) -> None:
        self.default_namespace = "default"
        self.objects: dict[tuple[str, str | None, str], Obj] = {}
        self.pods: dict[tuple[str, str], Obj] = {}
        self.execs: list[tuple[list[str], int]] = []  # argv, bytes of stdin
        self.netns = netns
        self.cache_dir = cache_dir
        self.on_apply: Callable[[Obj], None] | None = None
        self.forbid_exec = False

    # ---- reads -----------------------------------------------------------------------
    def read_pod(self, namespace: str, name: str) -> Obj:
        if (namespace, name) not in self.pods:
            raise ClusterError(f"pod {namespace}/{name}: not found")
        return copy.deepcopy(self.pods[(namespace, name)])

    def list_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> list[Obj]:
        key, _, value = label_selector.partition("=")
        return [
            copy.deepcopy(pod)
            for (ns, _), pod in sorted(self.pods.items())
            if namespace in (None, ns)
            and (not key or (pod["metadata"].get("labels") or {}).get(key) == value)
            and (node is None or pod["spec"].get("nodeName") == node)
        ]

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        found = self.objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found else None

    def events_for(self, namespace: str, name: str) -> list[Obj]:
        return []

    # ---- writes ----------------------------------------------------------------------
    def apply(self, obj: Obj) -> str:
        key = (obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
        before = self.objects.get(key)
        self.objects[key] = copy.deepcopy(obj)
        if self.on_apply:
            self.on_apply(obj)
        if before is None:
            return "created"
        return "unchanged" if before == obj else "configured"

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        removed = self.objects.pop((kind, namespace, name), None) is not None
        if kind == "Namespace":
            for key in [k for k in self.objects if k[1] == name]:
                del self.objects[key]
            for key in [k for k in self.pods if k[0] == name]:
                del self.pods[key]
        return removed

    # ---- exec ------------------------------------------------------------------------
    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: bytes | None, timeout: float
    ) -> ExecResult:
        if self.forbid_exec:
            raise ClusterError(f"exec in pod {namespace}/{pod}: forbidden")
        if (namespace, pod) not in self.pods:
            raise ClusterError(f"exec in pod {namespace}/{pod}: not found")
        self.execs.append((argv, len(stdin or b"")))
        netns = self.netns

        def enter() -> None:
            if netns:
                enter_netns(f"{NETNS_DIR}/{netns}")

        env = {**os.environ, "PODNET_CACHE": self.cache_dir or "/nonexistent"}
        # the agent image has a bare python3: -I -S keeps our site-packages (and so any
        # installed kubectl_podnet or pyroute2) out, so only the sent payload can be imported
        env.pop("PYTHONPATH", None)
        program = [sys.executable, "-I", "-S"] if argv[0] == "python3" else [argv[0]]
        done = subprocess.run(
            [*program, *argv[1:]],
            input=stdin,
            capture_output=True,
            timeout=timeout,
            preexec_fn=enter,
            env=env,
            check=False,
        )
        return ExecResult(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr.decode(errors="replace"))

    # ---- helpers for tests -----------------------------------------------------------
    def add_pod(self, pod: Obj) -> None:
        self.pods[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = copy.deepcopy(pod)


def running_agent_pod(node: str, namespace: str = "podnet-system", name: str = "podnet-agent-x1") -> Obj:
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": {"app.kubernetes.io/name": "podnet-agent"}},
        "spec": {"nodeName": node},
        "status": {"phase": "Running", "containerStatuses": [{"name": "agent", "ready": True, "state": {"running": {}}}]},
    }

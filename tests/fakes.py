"""A fake of our own ClusterPort (never of urllib3): the API as dicts in memory.

Like the API server, and no more: `create` answers AlreadyExists for an object that
exists, `replace` answers Conflict when the resourceVersion it carries is not the stored
one, and each write stamps a new resourceVersion (and a uid on create). Whether an
object is created, unchanged or configured is the agent manager's decision, never the fake's.

Its `exec` does for real what the API server and kubelet would do with an exec: it runs
the argv as a local process, optionally inside a netns (the lab node standing in for
the agent pod's hostNetwork), feeds stdin and returns stdout, stderr and the exit code.
That is the one edge we fake, because no API server runs in unit tests.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kubectl_podnet.cluster.manifests import DEFAULT_IMAGE, REVISION_LABEL, SPEC_REVISION
from kubectl_podnet.cluster.port import ExecResult
from kubectl_podnet.errors import AlreadyExists, ClusterError, Conflict
from kubectl_podnet.node.nsenter import enter_netns
from kubectl_podnet.node.procfs import NETNS_DIR
from kubectl_podnet.node.resident import PIDFILE, recorded_server

Obj = dict[str, Any]


class FakeCluster:
    def __init__(self, netns: str | None = None, cache_dir: str | None = None) -> None:
        self.default_namespace = "default"
        self.objects: dict[tuple[str, str | None, str], Obj] = {}
        self.pods: dict[tuple[str, str], Obj] = {}
        self.execs: list[tuple[list[str], int]] = []  # argv, bytes of stdin
        self.netns = netns
        self.cache_dir = cache_dir
        self.on_write: Callable[[Obj], None] | None = None  # after each create or replace
        self.before_write: Callable[[Obj], None] | None = None  # a racing writer, for tests
        self.events: list[Obj] = []
        self.forbid_exec = False
        self.writes: list[tuple[str, str]] = []  # (verb, kind)
        self.reads: list[str] = []  # kinds read with `read`
        self.forbidden_kinds: set[str] = set()  # RBAC: a user who may not read these
        self.on_exec: Callable[[str], object] | None = None  # called with the pod name before an exec runs (its result is ignored)
        self._version = 0

    # ---- reads -----------------------------------------------------------------------
    def read_pod(self, namespace: str, name: str) -> Obj:
        if (namespace, name) not in self.pods:
            raise ClusterError(f"pod {namespace}/{name}: not found")
        return copy.deepcopy(self.pods[(namespace, name)])

    def list_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> list[Obj]:
        return [
            copy.deepcopy(pod)
            for (ns, _), pod in sorted(self.pods.items())
            if (namespace is None or ns == namespace)
            and selector_matches(label_selector, pod["metadata"].get("labels") or {})
            and (node is None or pod["spec"].get("nodeName") == node)
        ]

    def iter_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> Iterator[Obj]:
        return iter(self.list_pods(namespace, label_selector, node))

    def list_objects(self, kind: str, namespace: str | None) -> list[Obj]:
        if kind in self.forbidden_kinds:
            raise ClusterError(f"list {kind}: forbidden")
        return [copy.deepcopy(o) for (k, ns, _), o in sorted(self.objects.items(), key=lambda item: str(item[0]))
                if k == kind and ns == namespace]

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        self.reads.append(kind)
        if kind in self.forbidden_kinds:
            raise ClusterError(f"{kind} {name}: forbidden")
        found = self.objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found else None

    def list_events(self, namespace: str, involved_kind: str, involved_name: str, reason: str) -> list[Obj]:
        return [
            copy.deepcopy(e) for e in self.events
            if (e.get("metadata") or {}).get("namespace") == namespace and e.get("reason") == reason
            and e["involvedObject"].get("kind") == involved_kind and e["involvedObject"].get("name") == involved_name
        ]

    # ---- writes ----------------------------------------------------------------------
    @staticmethod
    def _key(obj: Obj) -> tuple[str, str | None, str]:
        return obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"]

    def _store(self, obj: Obj, verb: str) -> Obj:
        self._version += 1
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = str(self._version)
        self.objects[self._key(obj)] = stored
        self.writes.append((verb, obj["kind"]))
        if self.on_write:
            self.on_write(stored)
        return copy.deepcopy(stored)

    def create(self, obj: Obj) -> Obj:
        if self.before_write:
            self.before_write(obj)
        kind, _, name = key = self._key(obj)
        if key in self.objects:
            raise AlreadyExists(f"create {kind} {name}: AlreadyExists")
        obj = copy.deepcopy(obj)
        obj["metadata"]["uid"] = f"uid-{self._version + 1}"
        return self._store(obj, "create")

    def replace(self, obj: Obj) -> Obj:
        if self.before_write:
            self.before_write(obj)
        kind, _, name = key = self._key(obj)
        current = self.objects.get(key)
        if current is None:
            raise ClusterError(f"replace {kind} {name}: not found")
        if obj["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
            raise Conflict(f"replace {kind} {name}: Conflict")
        obj = copy.deepcopy(obj)
        obj["metadata"]["uid"] = current["metadata"].get("uid")
        return self._store(obj, "replace")

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        removed = self.objects.pop((kind, namespace, name), None) is not None
        if kind == "Namespace":
            for key in [k for k in self.objects if k[1] == name]:
                del self.objects[key]
            for pod_key in [k for k in self.pods if k[0] == name]:
                del self.pods[pod_key]
        return removed

    # ---- exec ------------------------------------------------------------------------
    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: bytes | None, timeout: float
    ) -> ExecResult:
        if self.forbid_exec:
            raise ClusterError(f"exec in pod {namespace}/{pod}: forbidden")
        if (namespace, pod) not in self.pods:
            raise ClusterError(f"exec in pod {namespace}/{pod}: not found")
        if self.on_exec:
            self.on_exec(pod)
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
        try:
            done = subprocess.run(
                [*program, *argv[1:]],
                input=stdin,
                capture_output=True,
                timeout=timeout,
                preexec_fn=enter,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:  # what the real adapter's deadline says
            raise ClusterError(f"exec in pod {namespace}/{pod}: no answer within {timeout:.0f}s") from exc
        return ExecResult(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr.decode(errors="replace"))

    # ---- helpers for tests -----------------------------------------------------------
    def add_pod(self, pod: Obj) -> None:
        self.pods[(pod["metadata"]["namespace"], pod["metadata"]["name"])] = copy.deepcopy(pod)


def _requirements(selector: str) -> list[str]:
    """Split a label selector on the commas between requirements (not those inside `in (a,b)`)."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    return [part for part in parts + [current.strip()] if part]


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """The API server's label selector, as far as tests use it: =, ==, !=, in, notin, exists, !exists."""
    for requirement in _requirements(selector):
        words = requirement.replace("(", " ( ").replace(")", " ) ").split()
        if len(words) >= 3 and words[1] in ("in", "notin"):
            values = {v.strip() for v in " ".join(words[3:-1]).split(",")}
            if (labels.get(words[0]) in values) != (words[1] == "in") or (words[1] == "in" and words[0] not in labels):
                return False
        elif "!=" in requirement:
            key, value = (p.strip() for p in requirement.split("!=", 1))
            if labels.get(key) == value:
                return False
        elif "=" in requirement:
            key, value = (p.strip() for p in requirement.replace("==", "=").split("=", 1))
            if labels.get(key) != value:
                return False
        elif requirement.startswith("!"):
            if requirement[1:].strip() in labels:
                return False
        elif requirement not in labels:
            return False
    return True


def running_agent_pod(
    node: str, namespace: str = "podnet-system", name: str = "podnet-agent-x1", image: str = DEFAULT_IMAGE,
    revision: int = SPEC_REVISION,
) -> Obj:
    """An agent pod as the DaemonSet's template makes it (its labels carry the spec revision)."""
    return {
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {"app.kubernetes.io/name": "podnet-agent", REVISION_LABEL: str(revision)}},
        "spec": {"nodeName": node, "containers": [{"name": "agent", "image": image}]},
        "status": {"phase": "Running", "containerStatuses": [{"name": "agent", "ready": True, "state": {"running": {}}}]},
    }


def stop_resident_agents(root: Path) -> list[int]:
    """Kill every resident agent whose digest directory is under `root` (the exec starts them)."""
    killed = []
    for pidfile in sorted(root.rglob(PIDFILE)):
        pid = recorded_server(str(pidfile.parent))
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
    return killed


def pod_from(daemonset: Obj, node: str, name: str = "podnet-agent-x1") -> Obj:
    """The pod the DaemonSet controller would make on `node` from this DaemonSet."""
    template = daemonset["spec"]["template"]
    pod = running_agent_pod(node, daemonset["metadata"]["namespace"], name)
    pod["metadata"]["labels"] = dict(template["metadata"]["labels"])
    pod["spec"]["containers"] = copy.deepcopy(template["spec"]["containers"])
    return pod

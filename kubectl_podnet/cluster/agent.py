"""The agent DaemonSet: install, wait for it on one node, explain why it is not there.

Waiting shows one progress line on stderr; a timeout names the cause the pod status
gives (image pull error, unschedulable, a taint) instead of just "timed out".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from kubectl_podnet.cluster.manifests import (
    AGENT_NAME,
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    LABEL_SELECTOR,
    agent_objects,
    spec_hash,
)
from kubectl_podnet.cluster.port import ClusterPort, Obj
from kubectl_podnet.errors import AgentError

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class AgentPod:
    name: str
    node: str
    namespace: str


def pod_problem(pod: Obj) -> str | None:
    """Why an agent pod is not running, in one phrase, or None if it runs."""
    status = pod.get("status", {})
    for entry in status.get("containerStatuses") or []:
        state = entry.get("state") or {}
        if "running" in state and entry.get("ready", True):
            return None
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason")
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"):
            return f"image pull error ({reason}): {waiting.get('message', '')}".strip()
        if reason:
            return f"{reason}: {waiting.get('message', '')}".rstrip(": ")
        terminated = state.get("terminated") or {}
        if terminated:
            return f"agent container exited ({terminated.get('reason', 'code ' + str(terminated.get('exitCode')))})"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"pending: {condition.get('message') or condition.get('reason')}"
    return f"{status.get('phase', 'Pending')}"


class AgentManager:
    def __init__(
        self,
        cluster: ClusterPort,
        namespace: str = DEFAULT_NAMESPACE,
        image: str = DEFAULT_IMAGE,
        progress: Progress = _quiet,
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.image = image
        self.progress = progress

    def objects(self) -> list[Obj]:
        return agent_objects(self.namespace, self.image)

    def install(self) -> list[str]:
        return [f"{obj['kind']}/{obj['metadata']['name']} {self.cluster.apply(obj)}" for obj in self.objects()]

    def installed(self) -> Obj | None:
        return self.cluster.read("DaemonSet", self.namespace, AGENT_NAME)

    def uninstall(self, timeout: float = 60) -> list[str]:
        """Delete every object we created; wait until the namespace (and pods) are gone."""
        done = []
        namespace = self.cluster.read("Namespace", None, self.namespace)
        ours = namespace and (namespace["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "kubectl-podnet"
        for obj in reversed(self.objects()):
            kind, name = obj["kind"], obj["metadata"]["name"]
            if kind == "Namespace" and not ours:
                continue  # someone else's namespace: take only our objects out of it
            if self.cluster.delete(kind, obj["metadata"].get("namespace"), name):
                done.append(f"{kind}/{name} deleted")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self.cluster.read("Namespace", None, self.namespace) if ours else self.installed()
            if left is None:
                return done
            self.progress(f"waiting for {self.namespace} to finish terminating")
            time.sleep(1)
        raise AgentError(f"namespace {self.namespace} still terminating after {timeout:.0f}s")

    def pod_on(self, node: str) -> Obj | None:
        pods = self.cluster.list_pods(self.namespace, LABEL_SELECTOR, node=node)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return live[0] if live else None

    def _needs_update(self, daemonset: Obj) -> bool:
        """Another image, or a DaemonSet written by another plugin version."""
        desired = next(obj for obj in self.objects() if obj["kind"] == "DaemonSet")
        return spec_hash(daemonset) != spec_hash(desired)

    def ensure_on(self, node: str, timeout: float, install: bool) -> AgentPod:
        """The ready agent pod on `node`, installing or updating the DaemonSet if allowed."""
        daemonset = self.installed()
        if daemonset is None or self._needs_update(daemonset):
            if not install:
                state = "not installed" if daemonset is None else (
                    f"installed with another image or plugin version (want {self.image})"
                )
                raise AgentError(
                    f"the podnet agent is {state} in namespace {self.namespace}",
                    hint="run `kubectl podnet agent install` or drop --no-install",
                )
            verb = "installing" if daemonset is None else "updating"
            self.progress(f"{verb} the podnet agent ({self.image}) in namespace {self.namespace}")
            for line in self.install():
                self.progress(line)
        started = time.monotonic()
        problem = "no agent pod on the node yet"
        seen: str | None = None
        while True:
            pod = self.pod_on(node)
            name = pod["metadata"]["name"] if pod else None
            if seen and name != seen:
                self.progress(f"agent pod {seen} went away; waiting for its replacement")
            seen = name or seen
            if pod is not None:
                found = pod_problem(pod)
                if found is None:
                    return AgentPod(name=pod["metadata"]["name"], node=node, namespace=self.namespace)
                problem = found
            elapsed = time.monotonic() - started
            if elapsed >= timeout:
                break
            self.progress(f"waiting for the podnet agent on {node}: {problem} ({elapsed:.0f}s)")
            time.sleep(min(1.0, max(0.1, timeout - elapsed)))
        if problem == "no agent pod on the node yet":
            problem = (
                f"the DaemonSet has no pod on node {node}: a taint it does not tolerate, a nodeSelector, "
                "or the node is not Ready"
            )
        raise AgentError(f"the podnet agent is not ready on {node} after {timeout:.0f}s: {problem}")

    def still_there(self, agent: AgentPod) -> bool:
        """Whether `agent` is still the live agent pod on its node (not deleted meanwhile)."""
        pod = self.pod_on(agent.node)
        return pod is not None and pod["metadata"]["name"] == agent.name

    def status(self) -> list[str]:
        daemonset = self.installed()
        if daemonset is None:
            return [f"not installed (namespace {self.namespace})"]
        st = daemonset.get("status", {})
        image = daemonset["spec"]["template"]["spec"]["containers"][0]["image"]
        lines = [
            f"DaemonSet {self.namespace}/{AGENT_NAME}: image {image}, "
            f"{st.get('numberReady', 0)}/{st.get('desiredNumberScheduled', 0)} ready"
        ]
        for pod in self.cluster.list_pods(self.namespace, LABEL_SELECTOR):
            node = pod.get("spec", {}).get("nodeName") or "(unscheduled)"
            lines.append(f"  {pod['metadata']['name']} on {node}: {pod_problem(pod) or 'Running'}")
        return lines

"""What of ours is in the cluster: the agent's objects and a test namespace's, to prove nothing is left."""

from __future__ import annotations

import time

from e2e.clients import Kubectl

AGENT_NAMESPACE = "podnet-system"
AGENT_SELECTOR = "app.kubernetes.io/name=podnet-agent"
OURS = "app.kubernetes.io/managed-by=kubectl-podnet"


class Snapshot:
    def __init__(self, kubectl: Kubectl) -> None:
        self.kubectl = kubectl

    def agent_objects(self) -> list[str]:
        """Every object labelled as the plugin's, in any namespace, plus the agent namespace itself."""
        found = self.kubectl.names("namespaces,serviceaccounts,daemonsets,pods,configmaps,secrets",
                                   "-A", "-l", OURS)
        return found + self.kubectl.names("namespace", AGENT_NAMESPACE)

    def agent_pods(self, node: str | None = None) -> list[str]:
        """The agent's pods, on every node or on `node` only."""
        on_node = ["--field-selector", f"spec.nodeName={node}"] if node else []
        return self.kubectl.names("pods", "-n", AGENT_NAMESPACE, "-l", AGENT_SELECTOR, *on_node)

    def namespace_objects(self, namespace: str) -> list[str]:
        return self.kubectl.names("pods,configmaps,secrets,serviceaccounts,roles,rolebindings", "-n", namespace)

    def wait_gone(self, timeout: float = 120) -> list[str]:
        """Poll until no agent object is left; what is still there at the deadline."""
        deadline = time.monotonic() + timeout
        left = self.agent_objects()
        while left and time.monotonic() < deadline:
            time.sleep(1)
            left = self.agent_objects()
        return left

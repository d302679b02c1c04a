"""The smoke pod that ends `up` on both clusters: two busybox containers in one pod.

`server` serves /www with busybox httpd on :8080 (the local cluster's busybox image has
an index.html that says podnet-ok); `kubectl exec` into `client` fetches it over the pod's
loopback with nc (Debian's static busybox `wget` is not relied on: e2e/README.md). So `up`
returns only when the scheduler, the kubelet, the runtime with its pause image, the CNI and
the API server's exec path all work. The namespace goes again, whether the pod answered or not.
"""
from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Protocol

from testbeds.common.failure import Failure

POD = "smoke"
ANSWER = "podnet-ok"
FETCH = ("sh", "-c", "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 127.0.0.1 8080")


class Kubectl(Protocol):
    """Each tool's kubectl: its kubeconfig (and on kind its netns); raises Failure when `check`."""

    def __call__(self, *args: str, input: str | None = ..., check: bool = ...,
                 timeout: float = ...) -> subprocess.CompletedProcess[str]: ...


def manifests(namespace: str, image: str, pull_policy: str, node: str | None = None) -> tuple[str, str]:
    """Pure: the namespace and the pod (pinned to `node` when given), as two JSON documents:
    a pod is refused until its namespace has a default ServiceAccount."""
    spec: dict[str, object] = {
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 0,
        "containers": [
            {"name": "server", "image": image, "imagePullPolicy": pull_policy,
             "command": ["httpd", "-f", "-p", "8080", "-h", "/www"]},
            {"name": "client", "image": image, "imagePullPolicy": pull_policy, "command": ["sleep", "3600"]},
        ],
    }
    if node is not None:
        spec["nodeName"] = node
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": namespace}, "spec": spec}
    ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    return json.dumps(ns), json.dumps(pod)


def check(kubectl: Kubectl, namespace: str, image: str, pull_policy: str, blame: str, say: Callable[[str], None],
          node: str | None = None) -> None:
    """Start the pod of `manifests`, exec into it; a pod that is not Ready or does not answer
    raises Failure(blame, ...), with the end of `kubectl describe`."""
    namespace_doc, pod_doc = manifests(namespace, image, pull_policy, node)
    where = f" on {node}" if node else ""
    kubectl("apply", "-f", "-", input=namespace_doc)
    try:
        kubectl("wait", "--for=create", "serviceaccount/default", "-n", namespace, "--timeout=90s", timeout=100)
        kubectl("apply", "-f", "-", input=pod_doc)
        cp = kubectl("wait", "-n", namespace, f"pod/{POD}", "--for=condition=Ready", "--timeout=120s", check=False,
                     timeout=150)
        if cp.returncode != 0:
            desc = kubectl("describe", "pod", "-n", namespace, POD, check=False).stdout
            raise Failure(blame, f"smoke pod not Ready: {cp.stderr.strip()}\n--- kubectl describe pod {POD} ---\n"
                          + "\n".join(desc.splitlines()[-20:]))
        out = kubectl("exec", "-n", namespace, POD, "-c", "client", "--", *FETCH, check=False)
        if ANSWER not in out.stdout:
            raise Failure(blame, f"exec into the smoke pod{where} did not answer: rc={out.returncode} "
                          f"stdout={out.stdout!r} stderr={out.stderr.strip()!r}")
        say(f"smoke pod{where}: two containers running, `kubectl exec` -> 127.0.0.1:8080 answered")
    finally:
        kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=120s", check=False, timeout=150)

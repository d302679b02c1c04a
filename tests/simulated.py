"""FakeCluster at scale: many nodes, many pods, latency, and nodes that are dead or slow.

One machine cannot hold a cluster of 1,000 nodes, so a sweep's scale is measured on this
simulation (bench/sweep_scale.py) and its failure handling is tested on a small one
(tests/unit/test_sweep.py). What is simulated, and what is real:
- simulated: the API server (pods in memory, each list materialised afresh as a JSON
  decode would, every call paying `api_latency`), and the agent's exec (`exec_latency`,
  then an answer the fake writes: a healthy report per requested pod, its pod's name,
  namespace, node and uid those of the request; the checks really ran once, on the factories' healthy facts);
- real: everything of ours between them: selection, skipping, grouping by node, the
  parallel per-node execs and their timeouts, the agent manager's warm path and waits,
  the envelope parsing and the report decoding, the renderers.
Dead nodes come in the three kinds a sweep meets: the agent pod missing, the agent pod
not ready, and an exec that never answers (slow: it answers only after the timeout).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

from kubectl_podnet.checks.report import build_report
from kubectl_podnet.cluster.manifests import DEFAULT_NAMESPACE, agent_objects
from kubectl_podnet.cluster.port import ExecResult
from kubectl_podnet.errors import ClusterError
from kubectl_podnet.model import PodInfo
from kubectl_podnet.serde import to_json
from tests.factories import healthy
from tests.fakes import FakeCluster, pod_from, selector_matches

Obj = dict[str, Any]
NAMESPACES = 40  # the simulated workloads spread over this many namespaces
PAGE = 500  # pods per list page, as the real adapter asks


def workload_pod(node: str, index: int, phase: str = "Running") -> Obj:
    """A pod as the API returns it, with the bulk a real one carries (managedFields, conditions)."""
    namespace = f"team-{index % NAMESPACES:02d}"
    name = f"app-{node}-{index:02d}"
    uid = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{node}/{index}"))
    running = phase == "Running"
    statuses = [
        {"name": c, "ready": running, "restartCount": 0, "image": f"registry.example/{c}:1.2.3",
         "imageID": f"registry.example/{c}@sha256:{'e' * 64}",
         "containerID": f"containerd://{hashlib.sha256((uid + c).encode()).hexdigest()}",
         "state": {"running": {"startedAt": "2026-11-26T08:00:00Z"}} if running
         else {"terminated": {"exitCode": 0, "reason": "Completed"}}}
        for c in ("app", "sidecar")
    ]
    return {
        "metadata": {
            "name": name, "namespace": namespace, "uid": uid, "resourceVersion": str(100000 + index),
            "creationTimestamp": "2026-11-26T07:00:00Z", "generateName": f"app-{node}-",
            "labels": {"app": f"app-{index % 7}", "pod-template-hash": "5d8f7c9b6d"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"app-{index % 7}-5d8f7c9b6d",
                                 "uid": "11111111-2222-4333-8444-555555555555", "controller": True}],
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                               "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}}},
                                                                      "f:spec": {"f:containers": {}}}},
                              {"manager": "kubelet", "operation": "Update", "apiVersion": "v1",
                               "subresource": "status", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:status": {"f:conditions": {}, "f:podIPs": {}}}}],
        },
        "spec": {
            "nodeName": node, "serviceAccountName": "default", "restartPolicy": "Always",
            "containers": [{"name": c, "image": f"registry.example/{c}:1.2.3",
                            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}} for c in ("app", "sidecar")],
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}],
        },
        "status": {
            "phase": phase, "qosClass": "Burstable", "hostIP": "10.0.0.1", "startTime": "2026-11-26T07:00:01Z",
            "podIP": f"10.{index // 250}.{index % 250}.5", "podIPs": [{"ip": f"10.{index // 250}.{index % 250}.5"}],
            "conditions": [{"type": t, "status": "True", "lastTransitionTime": "2026-11-26T07:00:02Z"}
                           for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
            "containerStatuses": statuses,
        },
    }


class SimulatedCluster(FakeCluster):
    def __init__(
        self,
        nodes: int,
        pods_per_node: int,
        api_latency: float = 0.0,
        exec_latency: float = 0.0,
        agent_missing: tuple[int, ...] = (),
        agent_not_ready: tuple[int, ...] = (),
        exec_hangs: tuple[int, ...] = (),
        finished_every: int = 0,
        installed: bool = True,
    ) -> None:
        """Node i is `node-{i:04d}`; the tuples name dead nodes by index. Every
        `finished_every`-th node also runs one Succeeded pod (a finished Job). Not
        `installed`: no agent yet; creating its DaemonSet starts its pods (as the
        DaemonSet controller would, at once)."""
        super().__init__()
        self.api_latency = api_latency
        self.exec_latency = exec_latency
        self.node_names = [f"node-{i:04d}" for i in range(nodes)]
        self.hanging = {self.node_names[i] for i in exec_hangs}
        self.api_calls = 0
        self.exec_count = 0
        self.agent_cpu = 0.0  # seconds of CPU the simulated agents spent writing their answers
        self._count = threading.Lock()
        self._by_node: dict[str, list[tuple[str, str]]] = {}
        self._encoded: dict[tuple[str, str], str] = {}
        self.agent_missing, self.agent_not_ready = set(agent_missing), set(agent_not_ready)
        self.on_write = self._daemonset_controller
        if installed:
            for obj in agent_objects(DEFAULT_NAMESPACE):
                self.create(obj)
        for i, node in enumerate(self.node_names):
            for index in range(pods_per_node):
                self.add_pod(workload_pod(node, index))
            if finished_every and i % finished_every == 0:
                self.add_pod(workload_pod(node, pods_per_node, phase="Succeeded"))
        # the agent's answer, encoded once: one healthy report whose pod part each request fills in
        self._report = json.dumps(to_json(build_report(healthy(pod=PodInfo(
            uid="@UID@", namespace="@NS@", name="@NAME@", node="@NODE@", host_network=False, pod_ips=["10.244.1.5"])))))

    def _daemonset_controller(self, written: Obj) -> None:
        """A DaemonSet written: its pod on every node but the ones where it is missing."""
        if written["kind"] != "DaemonSet":
            return
        for i, node in enumerate(self.node_names):
            if i in self.agent_missing:
                continue
            agent = pod_from(written, node, f"podnet-agent-{i:04d}")
            if i in self.agent_not_ready:
                agent["status"] = {"phase": "Pending", "containerStatuses": [
                    {"name": "agent", "ready": False, "state": {"waiting": {"reason": "ContainerCreating"}}}]}
            self.add_pod(agent)

    # ---- the API, with latency and indexes (a list per node must not scan 30,000 pods) -----

    def _call(self) -> None:
        with self._count:
            self.api_calls += 1
        if self.api_latency:
            time.sleep(self.api_latency)

    def add_pod(self, pod: Obj) -> None:
        super().add_pod(pod)
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        self._by_node.setdefault(pod["spec"].get("nodeName") or "", []).append(key)
        self._encoded[key] = json.dumps(pod)  # what the API server sends; a list decodes it afresh

    def read_pod(self, namespace: str, name: str) -> Obj:
        self._call()
        return super().read_pod(namespace, name)

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        self._call()
        return super().read(kind, namespace, name)

    def list_events(self, namespace: str, involved_kind: str, involved_name: str, reason: str) -> list[Obj]:
        self._call()
        return super().list_events(namespace, involved_kind, involved_name, reason)

    def list_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> list[Obj]:
        return list(self.iter_pods(namespace, label_selector, node))

    def iter_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> Iterator[Obj]:
        """Pages of PAGE pods, each an API call decoded when it arrives, as the real adapter's."""
        keys = [key for key in (self._by_node.get(node, []) if node is not None else sorted(self.pods))
                if key in self.pods  # the index keeps pods deleted since
                and (namespace is None or key[0] == namespace)
                and selector_matches(label_selector, self.pods[key]["metadata"].get("labels") or {})]
        for start in range(0, max(1, len(keys)), PAGE):
            self._call()
            yield from json.loads("[" + ",".join(self._encoded[key] for key in keys[start:start + PAGE]) + "]")

    # ---- the agent ------------------------------------------------------------------------

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: bytes | None, timeout: float
    ) -> ExecResult:
        self._call()
        with self._count:
            self.exec_count += 1
        node = self.pods[(namespace, pod)]["spec"]["nodeName"] if (namespace, pod) in self.pods else None
        if node is None:
            raise ClusterError(f"exec in pod {namespace}/{pod}: not found")
        if node in self.hanging:
            time.sleep(timeout)  # kube.exec's own deadline, as the real adapter keeps it
            raise ClusterError(f"exec in pod {namespace}/{pod}: no answer within {timeout:.0f}s")
        time.sleep(self.exec_latency)
        started = time.thread_time()
        requests = json.loads(argv[argv.index("-c") + 4])  # bootstrap.command: python3 ... -c SCRIPT DIGEST MODE REQUEST
        items = []
        for request in requests:
            report = (self._report.replace("@UID@", request["podUid"]).replace("@NS@", request["namespace"])
                      .replace("@NAME@", request["name"]).replace("@NODE@", request["node"]))
            items.append(f'{{"apiVersion":"podnet/v1","kind":"AgentResult","exitCode":0,"report":{report},"error":null}}')
        out = '{"apiVersion":"podnet/v1","kind":"AgentResultList","exitCode":0,"items":[' + ",".join(items) + "]}\n"
        encoded = out.encode()
        with self._count:  # the agent's CPU, not the client's: the bench subtracts it
            self.agent_cpu += time.thread_time() - started
        return ExecResult(exit_code=0, stdout=encoded, stderr="")


"""`kubectl podnet connect A B`: both pods' nodes asked at once, their answers joined into hops.

The client reads both pods and their nodes (InternalIP) and the NetworkPolicies of both
namespaces, picks the one-off listener's port, and asks each node's agent for its side in
parallel: one exec per node (same node: two execs of the same agent, one per role, at once).
A port the target finds in use is refused there, never shared, and the connect is asked
again once with another port. Policy selection is read from the API (matchLabels and
matchExpressions against each pod's labels) and listed as evidence: it is never simulated.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubectl_podnet.checks.hops import build_connect
from kubectl_podnet.cluster.agent import AgentManager, AgentPod, Progress
from kubectl_podnet.cluster.agent_zip import build_payload
from kubectl_podnet.cluster.inspect_pods import exec_agent
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.cluster.port import ClusterPort, Obj
from kubectl_podnet.connect_model import (
    EPHEMERAL,
    ConnectRequest,
    ConnectSide,
    NodeRef,
    PodNetConnect,
    PolicyRef,
    connect_requests,
)
from kubectl_podnet.envelope import side_from
from kubectl_podnet.errors import ClusterError, UsageError
from kubectl_podnet.serde import to_json


def node_ref(name: str, node: Obj | None) -> NodeRef:
    """What the API says of a node that the path can be checked against: its InternalIP, its
    podCIDRs, and flannel's annotations (the VTEP MAC and address other nodes' FDBs must name). Pure."""
    meta, spec = (node or {}).get("metadata") or {}, (node or {}).get("spec") or {}
    notes = meta.get("annotations") or {}
    try:
        backend = json.loads(notes.get("flannel.alpha.coreos.com/backend-data") or "{}")
    except ValueError:
        backend = {}
    cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
    mac = backend.get("VtepMAC") if isinstance(backend, dict) else None
    return NodeRef(name=name, internal_ip=internal_ip(node), pod_cidrs=[str(c) for c in cidrs],
                   vtep_mac=str(mac) if mac else None,
                   public_ip=notes.get("flannel.alpha.coreos.com/public-ip") or None)


def internal_ip(node: Obj | None) -> str | None:
    """A Node's InternalIP, as the API lists its addresses. Pure."""
    for address in ((node or {}).get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address"))
    return None


def _matches(selector: Obj, labels: dict[str, str]) -> bool:
    """A LabelSelector against a pod's labels (an empty selector selects every pod). Pure."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression.get("key"), expression.get("operator"), expression.get("values") or []
        present = key in labels
        if operator == "In" and (not present or labels[key] not in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def selecting_policies(policies: list[Obj], pod: Obj, direction: str, which: str) -> list[PolicyRef]:
    """The NetworkPolicies of the pod's namespace that select it for `direction`. Pure."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    found = []
    for policy in policies:
        spec = policy.get("spec") or {}
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if spec.get("egress") else ["Ingress"])
        if direction.capitalize() in types and _matches(spec.get("podSelector") or {}, labels):
            meta = policy.get("metadata") or {}
            found.append(PolicyRef(str(meta.get("namespace")), str(meta.get("name")),
                                   "egress" if direction == "egress" else "ingress", which))
    return found


def _optional(read: Callable[..., Any], kind: str, namespace: str | None, name: str | None,
              progress: Progress) -> Any:
    """A read that `connect` can do without: a user whose RBAC lacks it still gets the hops (an
    older `agent rbac` has no nodes get or networkpolicies list); what it costs is said."""
    try:
        return read(kind, namespace, name) if name is not None else read(kind, namespace)
    except ClusterError as exc:
        progress(f"note: {exc.one_line()}: connect goes on without it")
        return None


def _pod_for_connect(cluster: ClusterPort, namespace: str, name: str) -> Obj:
    pod = cluster.read_pod(namespace, name)
    if not (pod.get("spec") or {}).get("nodeName"):
        raise ClusterError(f"pod {namespace}/{name} is not scheduled to a node yet")
    if not (pod.get("status") or {}).get("podIPs") and not (pod.get("status") or {}).get("podIP"):
        raise UsageError(f"pod {namespace}/{name} has no IP yet (phase {(pod.get('status') or {}).get('phase')}): "
                         "nothing to connect to")
    return pod


def connect_pods(cluster: ClusterPort, agents: AgentManager, source: tuple[str, str], target: tuple[str, str],
                 real_port: int | None, timeout: float, exec_timeout: float, install: bool,
                 progress: Progress) -> PodNetConnect:
    if source == target:
        raise UsageError(f"connect needs two pods: {source[0]}/{source[1]} was given twice")
    a_pod, b_pod = _pod_for_connect(cluster, *source), _pod_for_connect(cluster, *target)
    a_req, b_req = inspect_request(a_pod), inspect_request(b_pod)
    a_node, b_node = a_pod["spec"]["nodeName"], b_pod["spec"]["nodeName"]
    a_ref = node_ref(a_node, _optional(cluster.read, "Node", None, a_node, progress))
    b_ref = node_ref(b_node, _optional(cluster.read, "Node", None, b_node, progress))
    a_ip, b_ip = a_ref.internal_ip, b_ref.internal_ip
    same_node = a_node == b_node
    families = {4 if ":" not in ip else 6 for ip in a_req.pod_ips} & {4 if ":" not in ip else 6 for ip in b_req.pod_ips}
    if not families:
        raise UsageError("the two pods share no IP family: nothing to connect over")
    family = 4 if 4 in families else 6
    a_policies = _optional(cluster.list_objects, "NetworkPolicy", source[0], None, progress)
    b_policies = _optional(cluster.list_objects, "NetworkPolicy", target[0], None, progress)
    policies = selecting_policies(a_policies or [], a_pod, "egress", "a") + \
        selecting_policies(b_policies or [], b_pod, "ingress", "b")
    unknown = a_policies is None or b_policies is None
    with ThreadPoolExecutor(max_workers=2) as pool:
        agent_a, agent_b = pool.submit(agents.ensure_on, a_node, exec_timeout, install), \
            pool.submit(agents.ensure_on, b_node, exec_timeout, install)
        a_agent, b_agent = agent_a.result(), agent_b.result()
    payload = build_payload()

    def ask(agent: AgentPod, request: ConnectRequest) -> ConnectSide:
        body = json.dumps({"connect": to_json(request)}, separators=(",", ":"))
        envelope, _ = exec_agent(cluster, agent, body, timeout + exec_timeout, progress, payload)
        return side_from(envelope, f"pod {agent.namespace}/{agent.name}", agent.node)

    for attempt in range(2):  # a port in use on the target: once more with another
        port = random.randint(*EPHEMERAL)
        a_request, b_request = connect_requests(a_req, b_req, a_ip, b_ip, same_node, port, timeout, real_port, family)
        progress(f"connecting {source[1]} ({a_node}) to {target[1]} ({b_node}) through a one-off listener on port "
                 f"{port}")
        with ThreadPoolExecutor(max_workers=2) as pool:
            target_side = pool.submit(ask, b_agent, b_request)
            source_side = pool.submit(ask, a_agent, a_request)
            a_side, b_side = source_side.result(), target_side.result()
        if attempt == 0 and b_side.accepted is not None and b_side.accepted.error == "EADDRINUSE":
            continue
        break
    return build_connect(a_side, b_side, a_ip, b_ip, same_node, policies, policies_unknown=unknown,
                         target_node=b_ref)

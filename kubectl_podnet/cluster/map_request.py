"""`kubectl podnet node map NODE`: every pod on a node, mapped in one agent exec.

The API names the pods (every namespace, `spec.nodeName=NODE`); the agent on that node
reports each of them and the node's own links in the same exec (a NodeMapRequest), so
the cost is one exec whatever the node's pod count. Finished pods have no netns and are
left out; pods that cannot be inspected (not running yet) are listed with the reason.
"""

from __future__ import annotations

import json

from kubectl_podnet.checks.nodemap import node_map_from
from kubectl_podnet.cluster.agent import AgentManager, Progress
from kubectl_podnet.cluster.agent_zip import build_payload
from kubectl_podnet.cluster.inspect_pods import exec_agent
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.cluster.port import ClusterPort
from kubectl_podnet.errors import PodnetError
from kubectl_podnet.model import InspectRequest, MapError, NodeMapRequest, PodNetNodeMap
from kubectl_podnet.serde import to_json

FINISHED = ("Succeeded", "Failed")


def map_node(
    cluster: ClusterPort, node: str, agents: AgentManager, timeout: float, install: bool, progress: Progress
) -> PodNetNodeMap:
    agent = agents.ensure_on(node, timeout, install)  # first: the agent's own pod is on the map too
    requests: list[InspectRequest] = []
    asked: list[tuple[str | None, str | None]] = []
    errors: list[MapError] = []
    for pod in cluster.list_pods(None, "", node):
        meta = pod["metadata"]
        if (pod.get("status") or {}).get("phase") in FINISHED:
            continue
        try:
            requests.append(inspect_request(pod))
        except PodnetError as exc:
            errors.append(MapError(namespace=meta.get("namespace"), name=meta["name"], message=exc.one_line()))
            continue
        asked.append((meta.get("namespace"), meta["name"]))
    progress(f"mapping {len(requests)} pods on node {node}")
    request_json = json.dumps(to_json(NodeMapRequest(pods=requests)), separators=(",", ":"))
    envelope, _ = exec_agent(cluster, agent, request_json, timeout, progress, build_payload())
    return node_map_from(envelope, f"pod {agent.namespace}/{agent.name}", node, asked, errors)

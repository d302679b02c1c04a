"""`connect A B` in the lab: each side's agent run inside its own lab node's netns, in parallel,
exactly as the DaemonSet would run it on each node; the hops judged as the client judges them.

The cluster client (cluster/connect.py) and the lab share the request builder
(`connect_model.connect_requests`) and the judgement (`checks/hops.py`); only the way an agent is
reached differs.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor

from kubectl_podnet.checks.hops import build_connect
from kubectl_podnet.connect_model import EPHEMERAL, ConnectRequest, PodNetConnect, connect_requests
from kubectl_podnet.envelope import parse_envelope, side_from
from kubectl_podnet.lab.world import run_agent
from kubectl_podnet.model import InspectRequest
from kubectl_podnet.serde import to_json

def connect_in_lab(a_netns: str, a: InspectRequest, b_netns: str, b: InspectRequest, a_node_ip: str | None = None,
                   b_node_ip: str | None = None, timeout: float = 3.0, real_port: int | None = None,
                   port: int | None = None) -> PodNetConnect:
    same_node = a_netns == b_netns
    chosen = port or random.randint(*EPHEMERAL)
    source, target = connect_requests(a, b, a_node_ip, b_node_ip, same_node, chosen, timeout, real_port)

    def ask(netns: str, request: ConnectRequest) -> object:
        done = run_agent(netns, json.dumps({"connect": to_json(request)}), timeout=timeout + 30)
        where = f"netns {netns}"
        return side_from(parse_envelope(done.stdout, done.stderr, done.returncode, where), where, netns)

    with ThreadPoolExecutor(max_workers=2) as pool:
        target_side = pool.submit(ask, b_netns, target)
        source_side = pool.submit(ask, a_netns, source)
        a_side, b_side = source_side.result(), target_side.result()
    return build_connect(a_side, b_side, a_node_ip, b_node_ip, same_node, [])  # type: ignore[arg-type]

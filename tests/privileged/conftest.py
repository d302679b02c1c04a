"""Privileged tier: real netns, veth, bridges, cgroups and processes, torn down always.

Each test builds its own lab node under a unique prefix; the session fixture checks
at the end that no netns, cgroup or process of any test prefix is left behind.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from kubectl_podnet.lab.spec import PodSpec, inspect_request
from kubectl_podnet.lab.world import CGROUP_ROOT, LabNode, run_agent
from kubectl_podnet.model import InspectRequest
from kubectl_podnet.node.procfs import NETNS_DIR
from kubectl_podnet.serde import to_json

TEST_PREFIX = "pnt"



def _leftovers() -> list[str]:
    found = [f"netns {n}" for n in os.listdir(NETNS_DIR) if n.startswith(TEST_PREFIX)] if os.path.isdir(NETNS_DIR) else []
    for hierarchy in (f"{CGROUP_ROOT}/unified", CGROUP_ROOT, f"{CGROUP_ROOT}/pids"):
        if os.path.isdir(hierarchy):
            found += [f"cgroup {hierarchy}/{n}" for n in os.listdir(hierarchy) if n.startswith(TEST_PREFIX)]
    return found


@pytest.fixture(scope="session", autouse=True)
def nothing_left_behind() -> Iterator[None]:
    if os.geteuid() != 0:
        yield
        return
    before = set(_leftovers())
    yield
    after = set(_leftovers()) - before
    assert not after, f"privileged tests left these behind: {sorted(after)}"


@dataclass
class AgentAnswer:
    code: int
    envelope: dict[str, Any]

    @property
    def report(self) -> dict[str, Any]:
        assert self.envelope["report"] is not None, self.envelope
        return self.envelope["report"]  # type: ignore[no-any-return]

    def check(self, check_id: str) -> dict[str, Any]:
        return next(c for c in self.report["checks"] if c["id"] == check_id)

    def statuses(self) -> dict[str, str]:
        return {c["id"]: c["status"] for c in self.report["checks"]}


def request_for(node: LabNode, index: int = 0, named: bool = True) -> InspectRequest:
    return inspect_request(node.plan, node.plan.pods[index], named)


def ask_agent(node: LabNode, request: InspectRequest) -> AgentAnswer:
    """Run the node agent inside the lab node's netns, exactly as the DaemonSet runs it."""
    done = run_agent(node.plan.node_netns, json.dumps(to_json(request)))
    assert done.stdout, done.stderr
    envelope = json.loads(done.stdout)
    assert envelope["exitCode"] == done.returncode
    return AgentAnswer(done.returncode, envelope)


@pytest.fixture
def lab() -> Iterator[Callable[..., LabNode]]:
    nodes: list[LabNode] = []

    def build(*pods: PodSpec) -> LabNode:
        node = LabNode(f"{TEST_PREFIX}{secrets.token_hex(3)}", list(pods))
        nodes.append(node)
        node.build()
        return node

    try:
        yield build
    finally:
        for node in nodes:
            node.teardown()

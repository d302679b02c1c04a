"""One lab mode, start to end: build it, break it (if that is the mode), map it with the
node agent (one run for every pod, as on a cluster node), and prove paths by real connects.

The CLI and the privileged tests both run a mode through here, so what the tests assert
is what a learner sees.
"""

from __future__ import annotations

import errno
import json
import socket
import threading
from dataclasses import dataclass

from kubectl_podnet.checks.nodemap import node_map_from
from kubectl_podnet.envelope import parse_envelope
from kubectl_podnet.lab.modes import Connect, LabMode
from kubectl_podnet.lab.overlay import OverlayLab, clean_overlay
from kubectl_podnet.lab.spec import inspect_request
from kubectl_podnet.lab.world import LabNode, clean, run_agent
from kubectl_podnet.model import NodeMapRequest, PodNetNodeMap
from kubectl_podnet.node.nsenter import enter_netns
from kubectl_podnet.node.procfs import NETNS_DIR
from kubectl_podnet.serde import to_json


@dataclass(frozen=True)
class ConnectResult:
    connect: Connect
    source_netns: str
    address: str
    outcome: str  # "ok" or the errno name

    @property
    def as_expected(self) -> bool:
        return self.outcome == self.connect.expect

    def line(self) -> str:
        mark = "as expected" if self.as_expected else f"UNEXPECTED (expected {self.connect.expect})"
        return (f"connect from {self.connect.source} to {self.address}:{self.connect.port}: {self.outcome}, "
                f"{mark}: {self.connect.meaning}")


def build_mode(mode: LabMode, prefix: str | None = None) -> LabNode:
    """The mode's lab, built and broken as the mode says; the caller tears it down (or keeps it)."""
    node = LabNode(prefix or mode.prefix, mode.pods(), mode.cni_config)
    try:
        node.build()
        node.run_commands(mode.breaks(node.plan))
    except BaseException:
        node.teardown()
        raise
    return node


def build_overlay(mode: LabMode, prefix: str | None = None) -> OverlayLab:
    """A two-node mode's lab, built and broken as the mode says; the caller tears it down (or keeps it)."""
    lab = OverlayLab(prefix or mode.prefix)
    lab.build()
    try:
        lab.run_commands(mode.overlay_breaks(lab))
    except BaseException:
        lab.teardown()
        raise
    return lab


def clean_mode(mode: LabMode) -> list[str]:
    """Everything a kept run of this mode left (a two-node mode has two nodes' labs)."""
    return clean_overlay(mode.prefix) if mode.two_nodes else clean(mode.prefix)


def map_lab(node: LabNode) -> PodNetNodeMap:
    """Every pod of the lab and the node's own view, in one run of the agent in the node netns."""
    plan = node.plan
    request = NodeMapRequest(pods=[inspect_request(plan, pod) for pod in plan.pods])
    done = run_agent(plan.node_netns, json.dumps(to_json(request)))
    where = f"netns {plan.node_netns}"
    envelope = parse_envelope(done.stdout, done.stderr, done.returncode, where)
    return node_map_from(envelope, where, plan.node_netns, [("lab", pod.spec.name) for pod in plan.pods])


def _dial(netns_path: str, address: str, port: int, timeout: float = 2.0) -> str:
    """Connect from inside a netns (a thread steps in; the caller's thread stays put)."""
    outcome: list[str] = []

    def work() -> None:
        try:
            enter_netns(netns_path)
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                code = sock.connect_ex((address, port))
            outcome.append("ok" if code == 0 else errno.errorcode.get(code, str(code)))
        except TimeoutError:
            outcome.append("ETIMEDOUT")
        except OSError as exc:
            outcome.append(errno.errorcode.get(exc.errno or 0, str(exc)))

    worker = threading.Thread(target=work, name="podnet-lab-connect")
    worker.start()
    worker.join()
    return outcome[0] if outcome else "no result"


def prove(mode: LabMode, node: LabNode) -> list[ConnectResult]:
    pods = {pod.spec.name: pod for pod in node.plan.pods}
    results = []
    for connect in mode.connects:
        source = node.plan.node_netns if connect.source == "node" else pods[connect.source].netns
        assert source is not None
        address = pods[connect.target].ipv4 if connect.target in pods else connect.target
        results.append(ConnectResult(connect, source, address, _dial(f"{NETNS_DIR}/{source}", address, connect.port)))
    return results

"""What a check is and what it returns, and the facts-reading helpers more than one check needs. Pure."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubectl_podnet.model import Interface, NodeFacts, Status


@dataclass(frozen=True)
class Verdict:
    """What a check concludes; its `Check` gives it the id."""

    status: Status
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)
    fix: str | None = None


@dataclass(frozen=True)
class Check:
    id: str  # stable: CI jobs and docs/report.md key on it
    proves: str  # what a pass means, in one line
    judge: Callable[[NodeFacts], Verdict]
    by_hand: Callable[[NodeFacts], list[str]]  # the commands a learner types to redo it, real values filled in


def enter_netns(facts: NodeFacts) -> str:
    """The command prefix that runs a command in the pod's netns, by hand, on the node."""
    sandbox = facts.sandbox
    if sandbox.pid is not None:
        return f"nsenter -t {sandbox.pid} -n"
    if sandbox.pinned_path:
        return f"ip netns exec {sandbox.pinned_path.rsplit('/', 1)[-1]}"
    return "nsenter -t PID -n"


def primary_interface(interfaces: list[Interface]) -> Interface | None:
    """The pod's own interface: eth0 by name, else its first veth."""
    by_name = {i.name: i for i in interfaces}
    if "eth0" in by_name:
        return by_name["eth0"]
    veths = [i for i in interfaces if i.kind == "veth"]
    return veths[0] if veths else None


def canonical(address: str) -> str:
    return str(ipaddress.ip_address(address))


def family_of(address: str) -> int:
    return ipaddress.ip_address(address).version


def bracketed(address: str, port: int) -> str:
    """address:port as people type it, [v6]:port for IPv6."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


_RANK: dict[Status, int] = {"skip": 0, "pass": 1, "warn": 2, "fail": 3}


def worst(statuses: list[Status]) -> Status:
    """fail > warn > pass > skip; nothing at all is a skip."""
    return max(statuses, key=_RANK.__getitem__, default="skip")

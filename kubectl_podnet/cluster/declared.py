"""What the Pod object declares about its network, read from the spec and annotations. Pure.

The ports the cluster will dial (every containerPort, and the port of every tcpSocket,
httpGet and grpc probe), and the interfaces Multus attached (the network-status
annotation). The client reads them and hands them to the agent, which never talks to the
API server.
"""

from __future__ import annotations

import json
from typing import Any

from kubectl_podnet.cluster.api_types import Probe, as_pod
from kubectl_podnet.model import AttachedNetwork, DeclaredPort, Transport

Obj = dict[str, Any]


NETWORK_STATUS = "k8s.v1.cni.cncf.io/network-status"
OLD_NETWORK_STATUS = "k8s.v1.cni.cncf.io/networks-status"  # Multus before v3.6
_PROTOCOLS: dict[str, Transport] = {"TCP": "tcp", "UDP": "udp"}  # SCTP is not judged


def _probe_port(probe: Probe, named: dict[str, int]) -> tuple[int, str | None] | None:
    """The port a probe dials at the pod IP, or None (no port, another host, an unknown name)."""
    for handler in ("tcpSocket", "httpGet", "grpc"):
        action = probe.get(handler)
        if not isinstance(action, dict):
            continue
        if action.get("host"):
            return None  # dials another host, not the pod
        port = action.get("port")
        if isinstance(port, int) and not isinstance(port, bool):
            return port, None
        if isinstance(port, str):
            if port.isdigit():
                return int(port), None
            return (named[port], port) if port in named else None
    return None


def declared_ports(raw: Obj) -> list[DeclaredPort]:
    """Every port the spec says the cluster dials, in spec order, without repeats."""
    spec = as_pod(raw).get("spec") or {}
    found: dict[tuple[int, Transport, str, str], DeclaredPort] = {}
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        name = container.get("name", "")
        named: dict[str, int] = {}
        for entry in container.get("ports") or []:
            protocol = _PROTOCOLS.get(str(entry.get("protocol") or "TCP").upper())
            port = entry.get("containerPort")
            if protocol is None or not isinstance(port, int):
                continue
            if entry.get("name"):
                named[entry["name"]] = port
            found.setdefault((port, protocol, name, "containerPort"),
                             DeclaredPort(port, protocol, name, "containerPort", entry.get("name")))
        probes = {"readinessProbe": container.get("readinessProbe"), "livenessProbe": container.get("livenessProbe"),
                  "startupProbe": container.get("startupProbe")}
        for source, probe in probes.items():
            resolved = _probe_port(probe, named) if isinstance(probe, dict) else None
            if resolved is not None:
                port, port_name = resolved
                found.setdefault((port, "tcp", name, source), DeclaredPort(port, "tcp", name, source, port_name))
    return list(found.values())


def attached_networks(raw: Obj) -> list[AttachedNetwork]:
    """The network-status annotation's entries; an unreadable annotation counts as none."""
    annotations = (as_pod(raw).get("metadata") or {}).get("annotations") or {}
    text = annotations.get(NETWORK_STATUS) or annotations.get(OLD_NETWORK_STATUS)
    if not text:
        return []
    try:
        entries = json.loads(text)
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    networks = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        ips = entry.get("ips") or []
        networks.append(AttachedNetwork(
            network=entry["name"],
            interface=entry.get("interface") if isinstance(entry.get("interface"), str) else None,
            ips=[ip for ip in ips if isinstance(ip, str)] if isinstance(ips, list) else [],
            mac=entry.get("mac") if isinstance(entry.get("mac"), str) else None,
            default=entry.get("default") is True,
        ))
    return networks

"""The node agent: gather a pod's network facts on the node it runs on.

Runs in three places with the same code: the agent DaemonSet pod (hostPID,
hostNetwork), `kubectl podnet node inspect` as root on a node, and the lab/tests on
namespaces built on this machine. It reads only; it never talks to the API server.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re

from dataclasses import dataclass, field

from kubectl_podnet.cni import identify
from kubectl_podnet.errors import NoPodProcess, UsageError
from kubectl_podnet.model import (
    CniInfo,
    ContainerFacts,
    InspectRequest,
    Interface,
    Listener,
    NodeFacts,
    NodeLink,
    OverlayLink,
    PodInfo,
    Probe,
    Route,
    RouteLookup,
    Sandbox,
)
from kubectl_podnet.node import netlink
from kubectl_podnet.node.cniconf import read_cni_config
from kubectl_podnet.node.discover import CgroupGroup, find_sandbox, scan_pod, split_sandbox
from kubectl_podnet.node.nsenter import run_in_netns
from kubectl_podnet.node.probe import pod_ip_targets, probe_loopback, probe_targets
from kubectl_podnet.node.procfs import NETNS_DIR, PinnedNetns, ProcFS
from kubectl_podnet.node.tcp import Socket, parse_inet_diag, parse_listeners, parse_udp_bound

_UID = re.compile(r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$")
_CONTAINER_ID = re.compile(r"^[0-9a-f]{64}$")


def validate(request: InspectRequest) -> None:
    if not _UID.match(request.pod_uid):
        raise UsageError(f"pod uid {request.pod_uid!r} is not a lowercase UUID (or a static pod's 32-hex config hash)")
    for ref in request.containers:
        not_run_yet = ref.id == "" and ref.status is not None and ref.status.state != "running"
        if not (_CONTAINER_ID.match(ref.id) or not_run_yet):
            raise UsageError(f"container id {ref.id!r} is not 64 lowercase hex digits (strip 'containerd://')")
    for address in request.pod_ips:
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise UsageError(f"pod IP {address!r} is not an IP address") from exc
    if not 0 < request.probe_timeout <= 10:
        raise UsageError("probe timeout must be in (0, 10] seconds")
    for declared in request.declared_ports:
        if not 0 < declared.port < 65536:
            raise UsageError(f"declared port {declared.port} of {declared.container} is not in 1-65535")


def _owners(procfs: ProcFS, containers: list[ContainerFacts]) -> dict[int, str]:
    """socket inode -> the container whose process holds it (a process gone holds none)."""
    owners: dict[int, str] = {}
    for container in containers:
        for pid in container.pids:
            for inode in procfs.socket_inodes(pid):
                owners[inode] = container.label
    return owners


@dataclass(frozen=True)
class NodeView:
    """What the node's netns says for every pod alike: read once per agent run, not per pod."""

    uplink: NodeLink | None = None
    overlays: list[OverlayLink] = field(default_factory=list)
    links: dict[int, NodeLink] = field(default_factory=dict)  # to name route lookups' devices
    cni: CniInfo | None = None


def read_node_view(host: netlink.HostNetns | None = None) -> NodeView:
    """From the run's node dumps (`host`), or from dumps of its own; the CNI from them and the node's config."""
    if host is None:
        with netlink.host_netns() as own:
            return read_node_view(own)
    uplink, overlays, links = netlink.read_node_path(host)
    return NodeView(uplink, overlays, links, identify(list(links.values()), overlays, read_cni_config()))


_TABLES = (("net/tcp", 4, "tcp"), ("net/tcp6", 6, "tcp"), ("net/udp", 4, "udp"), ("net/udp6", 6, "udp"))


def _table(procfs: ProcFS, name: str, family: int, protocol: str) -> list[Socket]:
    """One table's listeners in the calling thread's netns. TCP from sock_diag when the kernel
    has it: the same sockets as /proc/net/tcp's LISTEN rows, for a walk of the listening hash
    only (reading /proc/net/tcp{,6} walked every bucket of the host's established hash: ~4 ms
    a pod, the largest part of its time in its netns). Else, and for UDP, the /proc table."""
    if protocol == "tcp":
        try:
            return parse_inet_diag(netlink.dump_tcp_listeners(family), family)
        except OSError:  # no inet_diag/tcp_diag in this kernel: /proc says the same
            return parse_listeners(procfs.read("thread-self", name) or "", family)
    return parse_udp_bound(procfs.read("thread-self", name) or "", family)


def _listeners(procfs: ProcFS, owners: dict[int, str], owned_only: bool) -> list[Listener]:
    """The TCP listeners and bound UDP sockets of the calling thread's netns (run it inside the pod's)."""
    found: dict[int, Listener] = {}
    for name, family, protocol in _TABLES:
        for sock in _table(procfs, name, family, protocol):
            owner = owners.get(sock.inode)
            if owned_only and owner is None:
                continue  # hostNetwork: the node's own listeners are not the pod's
            found[sock.inode] = Listener(
                family=4 if family == 4 else 6, address=sock.address, port=sock.port, inode=sock.inode, container=owner,
                protocol="tcp" if protocol == "tcp" else "udp",
            )
    return sorted(found.values(), key=lambda item: (item.port, item.protocol, item.family, item.address))


def _netns_candidates(
    procfs: ProcFS, sandbox: Sandbox, containers: list[ContainerFacts], notes: list[str]
) -> list[tuple[str, int]]:
    """Paths that should lead to the pod's netns, each with the inode it must have."""
    if sandbox.netns_inode is None:
        running = [c for c in containers if c.pids and c.netns_inode is not None]
        if not running:
            return []
        first = running[0]
        notes.append(f"no sandbox found; reading the netns of container {first.label}")
        sandbox = dataclasses.replace(sandbox, netns_inode=first.netns_inode, netns_path=None)
    inode = sandbox.netns_inode
    assert inode is not None
    paths = [sandbox.netns_path] if sandbox.netns_path else []
    paths += [procfs.netns_path(pid) for c in containers if c.netns_inode == inode for pid in c.pids]
    return [(path, inode) for path in paths]


def open_pod_netns(candidates: list[tuple[str, int]]) -> int | None:
    """An fd on the pod's netns from the first candidate still there, or None if none is.

    Holding the fd keeps the netns alive for the rest of the inspect, whoever exits. The
    inode check refuses a pid that was reused by another process meanwhile.
    """
    for path, inode in candidates:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:  # ENOENT, ESRCH: the process exited; EACCES: not ours to read
            continue
        if os.fstat(fd).st_ino == inode:
            return fd
        os.close(fd)
    return None


def inspect_pod(
    request: InspectRequest,
    procfs: ProcFS | None = None,
    netns_dir: str = NETNS_DIR,
    node_view: NodeView | None = None,
    groups: dict[str, CgroupGroup] | None = None,
    host: netlink.HostNetns | None = None,
    pinned: PinnedNetns | None = None,
) -> NodeFacts:
    """One pod's facts. For a batch the caller reads the node-wide part (`node_view`), scans
    /proc (`groups`: this pod's processes), opens the node's netns (`host`: its socket and
    dumps) and lists the pinned netns (`pinned`, of `netns_dir`) once, for every pod."""
    validate(request)
    if host is None:
        with netlink.host_netns() as own:
            return inspect_pod(request, procfs, netns_dir, node_view, groups, own, pinned)
    procfs = procfs or ProcFS()
    node_inode = os.stat("/proc/thread-self/ns/net").st_ino  # the agent runs in the node netns
    if groups is None:
        groups = scan_pod(procfs, request.pod_uid)
    if not groups:
        raise NoPodProcess(
            f"no process of pod {request.pod_uid} on this node",
            hint="is the pod running here, and is the agent in the host PID namespace?",
        )
    containers, pauses = split_sandbox(procfs, groups, request.containers)
    if not any(group.pids for group in groups.values()):
        raise NoPodProcess(
            f"no process of pod {request.pod_uid} on this node",
            hint="the ones found exited while the agent looked: was the pod deleted or restarted?",
        )
    sandbox = find_sandbox(procfs, containers, pauses, netns_dir, pinned)
    notes: list[str] = []
    if sandbox.source == "pinned-netns":
        notes.append(
            "no pause process: the runtime pins the pod netns instead (CRI-O drop_infra_ctr)"
        )
    candidates = _netns_candidates(procfs, sandbox, containers, notes)

    host_network = request.host_network
    if host_network is None:
        host_network = sandbox.netns_inode is not None and sandbox.netns_inode == node_inode

    interfaces: list[Interface] = []
    routes: list[Route] = []
    listeners: list[Listener] = []
    probes: list[Probe] = []
    node_routes: list[RouteLookup] = []
    view = node_view if node_view is not None else read_node_view(host)
    netns_fd = open_pod_netns(candidates)
    if candidates and netns_fd is None:
        raise NoPodProcess(
            f"every process of pod {request.pod_uid} exited during the inspect",
            hint="was the pod deleted or restarted meanwhile?",
        )
    if netns_fd is not None:
        try:
            if host_network:
                interfaces = netlink.read_interfaces(host.ipr)
                routes = netlink.read_routes(host.ipr, {i.ifindex: i.name for i in interfaces})
            else:
                with netlink.open_netns(netns_fd) as ipr:
                    interfaces = netlink.read_interfaces(ipr)
                    routes = netlink.read_routes(ipr, {i.ifindex: i.name for i in interfaces})
                    interfaces = [
                        dataclasses.replace(i, peer=netlink.host_peer(host, ipr, i, netns_fd))
                        if i.kind == "veth"
                        else i
                        for i in interfaces
                    ]
                # the node's way to the pod, as the kernel answers `ip route get POD_IP`
                node_routes = [netlink.route_lookup(host, ip, view.links) for ip in request.pod_ips]
            owners = _owners(procfs, containers)

            def in_pod_netns() -> tuple[list[Listener], list[Probe]]:
                found = _listeners(procfs, owners, owned_only=host_network)
                ports = sorted({item.port for item in found if item.protocol == "tcp"})  # UDP: no handshake to dial
                return found, probe_loopback(ports, request.probe_timeout)

            listeners, probes = run_in_netns(netns_fd, in_pod_netns, name="podnet-pod-netns")
        finally:
            os.close(netns_fd)
    # from the node's netns (this thread's): the way kubelet probes and other nodes' pods come in
    pod_ip_probes = probe_targets(pod_ip_targets(listeners, request.pod_ips), request.probe_timeout)

    return NodeFacts(
        pod=PodInfo(
            uid=request.pod_uid,
            namespace=request.namespace,
            name=request.name,
            node=request.node,
            host_network=host_network,
            pod_ips=list(request.pod_ips),
            declared_ports=list(request.declared_ports),
            networks=list(request.networks),
        ),
        sandbox=sandbox,
        node_netns_inode=node_inode,
        containers=containers,
        expected_containers=list(request.containers),
        interfaces=interfaces,
        routes=routes,
        listeners=listeners,
        probes=probes,
        notes=notes,
        pod_ip_probes=pod_ip_probes,
        node_routes=node_routes,
        uplink=view.uplink,
        overlays=view.overlays,
        cni=view.cni,
    )

"""The agent's side of `connect A B`: the kernel's answers along the path on this node.

One module, two roles, the same code on both nodes (ARCHITECTURE: one node engine):
- **source** (A's node): A's own route to B and its gateway's neighbour entry (in A's netns);
  the node's input lookup for B *as a packet from A arriving on A's host veth* (`ip route get
  B from A iif VETH`: a missing route, a wrong device, forwarding off and rp_filter in one
  answer); the forwarding sysctls; the firewall chains a forwarded packet meets, read before
  and after the dial so a rule's counters say whether it hit; the tunnel the lookup chose and
  the remote VTEP its FDB sends B's node's MAC to; then a real TCP connect from inside A's
  netns to the target's one-off listener (getsockname: the address A sent from) and UDP
  probes with DF set, largest first, for the MTU of the path.
- **target** (B's node): a one-off TCP and UDP listener on the client's port inside B's
  netns (never touching B's own sockets: a port in use is refused, not shared), the node's
  lookup for B as a packet arriving from the tunnel (or the uplink), and, while it listens,
  AF_PACKET counts of this connect's packets on the node's uplink (encapsulated, from A's
  node) and on B's host veth (inner): "left A's node and never arrived" differs from
  "arrived and was dropped before the pod". Everything it opens is closed before it answers;
  its own deadline bounds it when the client goes away.

The sockets, the captures and the subprocesses (iptables-save) are I/O; the parsers of
what they return are pure functions here and in `iptables.py`, tested on recorded text.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import select
import socket
import struct
import time
from dataclasses import dataclass

from kubectl_podnet.connect_model import (
    Accepted,
    Capture,
    ConnectRequest,
    ConnectSide,
    Dial,
    Sent,
    Sysctls,
    Tunnel,
)
from kubectl_podnet.checks.verdict import primary_interface
from kubectl_podnet.errors import NoPodProcess, UsageError
from kubectl_podnet.model import NodeFacts, RouteLookup
from kubectl_podnet.node import netlink, rtnl_path
from kubectl_podnet.node.gather import NodeView, inspect_pod, open_pod_netns, read_node_view
from kubectl_podnet.node.iptables import read_firewall
from kubectl_podnet.node.nsenter import run_in_netns

IP_MTU_DISCOVER, IP_PMTUDISC_PROBE = 10, 3  # DF set, the cached path MTU ignored: the probe is its size
ETH_P_ALL, ETH_P_IP, PACKET_OUTGOING = 0x0003, 0x0800, 4
DONE = b"podnet-connect-done\n"  # the source's last word on the TCP connection: its probes are sent
TUNNEL_PORTS = (8472, 4789, 6081)  # vxlan (Linux/flannel/Cilium), vxlan (IANA: Calico), geneve
NEIGH_STATES = {0x01: "INCOMPLETE", 0x02: "REACHABLE", 0x04: "STALE", 0x08: "DELAY", 0x10: "PROBE",
                0x20: "FAILED", 0x40: "NOARP", 0x80: "PERMANENT"}


def validate(request: ConnectRequest) -> None:
    if not 0 < request.port < 65536 or (request.real_port is not None and not 0 < request.real_port < 65536):
        raise UsageError("connect port must be in 1-65535")
    try:
        ipaddress.ip_address(request.peer_ip)
        if request.peer_node_ip:
            ipaddress.ip_address(request.peer_node_ip)
    except ValueError as exc:
        raise UsageError(f"connect: {exc}") from exc
    if not 0 < request.timeout <= 30:
        raise UsageError("connect timeout must be in (0, 30] seconds")
    if any(not 68 <= size <= 65535 for size in request.mtu_sizes):
        raise UsageError("MTU probe sizes must be in 68-65535")


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc)) if exc.errno else type(exc).__name__


# ---- the node's switches ----------------------------------------------------------------

def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def read_sysctls(devices: list[str]) -> Sysctls:
    """This netns's forwarding switches for `devices` (and `all`), as /proc/sys/net says them."""
    base = "/proc/sys/net/ipv4/conf"
    names = ["all", *dict.fromkeys(d for d in devices if d)]
    forwarding = {n: v for n in names if (v := _read_int(f"{base}/{n}/forwarding")) is not None}
    rp_filter = {n: v for n in names if (v := _read_int(f"{base}/{n}/rp_filter")) is not None}
    return Sysctls(ip_forward=_read_int("/proc/sys/net/ipv4/ip_forward"), forwarding=forwarding,
                   rp_filter=rp_filter, bridge_nf_call_iptables=_read_int("/proc/sys/net/bridge/bridge-nf-call-iptables"))


# ---- the tunnel ---------------------------------------------------------------------------

def neighbour_of(messages: list[object], address: str, ifindex: int | None) -> tuple[str | None, str | None]:
    """(MAC, state) of `address` in a neighbour dump, on `ifindex` if given. Pure."""
    for msg in messages:
        m = msg  # a pyroute2 ndmsg
        if m.get("dst") == address and (ifindex is None or m["ifindex"] == ifindex):  # type: ignore[attr-defined,index]
            state = NEIGH_STATES.get(m["state"], str(m["state"]))  # type: ignore[index]
            return m.get("lladdr"), state  # type: ignore[attr-defined]
    return None, None


def remotes_of(fdb: list[object], mac: str | None, ifindex: int) -> list[str]:
    """The FDB's remote VTEPs (NDA_DST) for `mac` on the vxlan device `ifindex`. Pure."""
    if mac is None:
        return []
    found = []
    for msg in fdb:
        if msg["ifindex"] == ifindex and msg.get("lladdr") == mac and msg.get("dst"):  # type: ignore[index,attr-defined]
            found.append(str(msg.get("dst")))  # type: ignore[attr-defined]
    return found


def read_tunnel(host: netlink.HostNetns, lookup: RouteLookup) -> Tunnel | None:
    """The tunnel device `lookup` leaves by, its VNI/port/local address, and the remote its FDB names."""
    if lookup.ifindex is None or lookup.kind not in ("vxlan", "geneve", "ipip", "wireguard"):
        return None
    link = host.link(lookup.ifindex)
    if link is None:
        return None
    data = ("IFLA_LINKINFO", "IFLA_INFO_DATA")
    vni = link.get_nested(*data, "IFLA_VXLAN_ID") if lookup.kind == "vxlan" else None
    port = link.get_nested(*data, "IFLA_VXLAN_PORT") if lookup.kind == "vxlan" else None
    local = link.get_nested(*data, "IFLA_VXLAN_LOCAL") if lookup.kind == "vxlan" else None
    mac, _ = neighbour_of(netlink.read_neighbours(host.ipr), lookup.gateway, lookup.ifindex) if lookup.gateway \
        else (None, None)
    remotes = remotes_of(netlink.read_neighbours(host.ipr, bridge=True), mac, lookup.ifindex) if mac else []
    return Tunnel(name=link.get("ifname"), kind=lookup.kind, mtu=link.get("mtu"), vni=vni, port=port,
                  local=local, gateway=lookup.gateway, gateway_mac=mac, remotes=remotes)


def tunnel_in(view: NodeView) -> tuple[str, int] | None:
    """Where a packet from another node's pod arrives decapsulated: the node's tunnel with routes
    (flannel.1, vxlan.calico), else its CNI's (cilium_vxlan); None for a routed CNI (the uplink)."""
    names = {link.name: index for index, link in view.links.items()}
    ordered = [o.name for o in view.overlays if o.routes] + (view.cni.tunnels if view.cni else [])
    return next(((name, names[name]) for name in ordered if name in names), None)


# ---- the pod side -------------------------------------------------------------------------

def _pod_fd(facts: NodeFacts) -> int:
    """An fd on the pod's netns again (inspect closed its own), checked by inode."""
    inode = facts.sandbox.netns_inode if not facts.pod.host_network else facts.node_netns_inode
    paths = [facts.sandbox.netns_path] if facts.sandbox.netns_path else []
    paths += [f"/proc/{pid}/ns/net" for c in facts.containers for pid in c.pids if c.netns_inode == inode]
    fd = open_pod_netns([(path, inode) for path in paths]) if inode is not None else None
    if fd is None:
        raise NoPodProcess(f"every process of pod {facts.pod.uid} exited during the connect",
                           hint="was the pod deleted or restarted meanwhile?")
    return fd


def _pod_ip(facts: NodeFacts, family: int) -> str | None:
    return next((ip for ip in facts.pod.pod_ips if ipaddress.ip_address(ip).version == family), None)


def dial(address: str, port: int, deadline: float, keep: bool = False) -> tuple[Dial, socket.socket | None]:
    """TCP connects to address:port until one succeeds or `deadline` passes (the listener on the
    other node may not be up yet: a refusal is retried). Runs in the calling thread's netns."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    started, attempts, error = time.monotonic(), 0, "ETIMEDOUT"
    while True:
        attempts += 1
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(max(0.05, min(0.3, deadline - time.monotonic())))  # a lost first SYN: a new one soon
        try:
            sock.connect((address, port))
        except OSError as exc:
            sock.close()
            error = "ETIMEDOUT" if isinstance(exc, TimeoutError) else _errno_name(exc)
            if time.monotonic() + 0.05 >= deadline:
                return Dial(address, port, False, error, millis=(time.monotonic() - started) * 1000,
                            attempts=attempts), None
            time.sleep(0.05)
            continue
        local = sock.getsockname()[0]
        result = Dial(address, port, True, None, local, (time.monotonic() - started) * 1000, attempts)
        if keep:
            return result, sock
        sock.close()
        return result, None


def probe_sizes(pod_mtu: int) -> list[int]:
    """The MTU probes' IP packet sizes: the pod's MTU, then stepping down past the tunnel overheads. Pure."""
    steps = {pod_mtu, pod_mtu - 20, pod_mtu - 50, pod_mtu - 70, pod_mtu - 100, 1400, 1280, 576}
    return sorted((s for s in steps if 576 <= s <= pod_mtu), reverse=True)


def send_probes(address: str, port: int, sizes: list[int]) -> list[Sent]:
    """UDP datagrams of each IP size with DF set (twice each, a lost one is not a too-big one)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    headers = 48 if family == socket.AF_INET6 else 28
    sent: list[Sent] = []
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE)
        for size in sizes:
            payload = bytes(size - headers)
            try:
                for _ in range(2):
                    sock.sendto(payload, (address, port))
                sent.append(Sent(size))
            except OSError as exc:  # EMSGSIZE: larger than the pod's own device
                sent.append(Sent(size, _errno_name(exc)))
    return sent


def _source(request: ConnectRequest, facts: NodeFacts, host: netlink.HostNetns, view: NodeView,
            fd: int) -> ConnectSide:
    from kubectl_podnet.checks.report import build_report

    report = build_report(facts)
    family = ipaddress.ip_address(request.peer_ip).version
    pod_ip = _pod_ip(facts, family)
    eth0 = primary_interface(facts.interfaces)
    veth = eth0.peer if eth0 is not None else None
    deadline = time.monotonic() + request.timeout
    if facts.pod.host_network:
        pod_links = view.links
        egress = netlink.lookup_in(host.ipr, pod_links, request.peer_ip, routes=host.main_routes)
        neighbour = None
    else:
        def in_pod() -> tuple[RouteLookup, str | None]:
            with netlink.open_netns(None) as pod:  # this thread is in the pod's netns
                links = rtnl_path.parse_node_links(pod.get_links())
                found = netlink.lookup_in(pod, links, request.peer_ip, routes=facts.routes)
                hop = found.gateway or request.peer_ip
                _, state = neighbour_of(netlink.read_neighbours(pod), hop, found.ifindex)
                return found, state
        egress, neighbour = run_in_netns(fd, in_pod, name="podnet-connect-egress")
    node_lookup = iif = None
    if veth is not None and veth.name and pod_ip and not facts.pod.host_network:
        # a bridged pod's packets enter the node's IP stack on the bridge, a routed pod's on its veth
        iif = veth.master or veth.name
        index = next((i for i, link in view.links.items() if link.name == iif), veth.ifindex)
        node_lookup = netlink.lookup_in(host.ipr, view.links, request.peer_ip, source=pod_ip, iif=index,
                                        routes=host.main_routes)
    tunnel = read_tunnel(host, node_lookup) if node_lookup is not None else None
    sysctls = read_sysctls([veth.name if veth and veth.name else "", node_lookup.dev if node_lookup and
                            node_lookup.dev else "", veth.master if veth and veth.master else ""])
    before = read_firewall()
    pod_mtu = min([eth0.mtu if eth0 else 1500] + [r.mtu for r in facts.routes if r.dst == "default" and r.mtu])
    sizes = request.mtu_sizes or probe_sizes(pod_mtu)

    def in_pod_dial() -> tuple[list[Dial], list[Sent]]:
        found, sock = dial(request.peer_ip, request.port, deadline, keep=True)
        dials: list[Dial] = [found]
        sent: list[Sent] = []
        if sock is not None:
            with sock:
                sent = send_probes(request.peer_ip, request.port, sizes)
                time.sleep(0.05)  # the datagrams ahead of the last word
                try:
                    sock.sendall(DONE)
                except OSError:
                    pass
        if request.real_port is not None:
            dials.append(dial(request.peer_ip, request.real_port, time.monotonic() + min(1.0, request.timeout))[0])
        return dials, sent

    dials, sent = run_in_netns(fd, in_pod_dial, name="podnet-connect-dial")
    after = read_firewall()
    return ConnectSide(
        role="source", report=report, host_veth=veth.name if veth else None, egress=egress,
        gateway_neighbour=neighbour, node_lookup=node_lookup, iif=iif, sysctls=sysctls,
        firewall=before.with_after(after), tunnel=tunnel, uplink_mtu=view.uplink.mtu if view.uplink else None,
        dials=dials, mtu_sent=sent,
    )


# ---- the target side ------------------------------------------------------------------------

@dataclass
class _Watch:
    """A counting AF_PACKET socket on one node device (in the node's netns: the caller's thread)."""

    device: str
    what: str
    sock: socket.socket | None
    packets: int = 0
    error: str | None = None


def _open_watch(device: str | None, ifindex: int | None, what: str) -> _Watch | None:
    if device is None or ifindex is None:
        return None
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((device, ETH_P_ALL))
        sock.setblocking(False)
    except OSError as exc:
        return _Watch(device, what, None, error=_errno_name(exc))
    return _Watch(device, what, sock)


def matches(frame: bytes, what: str, pod_ip: str, port: int, peer_node_ip: str | None) -> bool:
    """Is this Ethernet frame a packet of this connect? `inner`: IPv4 to pod_ip:port (TCP or UDP);
    `encapsulated`: a tunnel's UDP from the peer node whose inner packet is that. Pure."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return False
    ip = frame[14:]
    header = (ip[0] & 0x0F) * 4
    protocol, source, destination = ip[9], socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    if len(ip) < header + 4:
        return False
    dport = struct.unpack("!H", ip[header + 2:header + 4])[0]
    if what == "inner" or (what == "encapsulated" and peer_node_ip is None):
        return destination == pod_ip and protocol in (6, 17) and dport == port
    if protocol != 17 or source != peer_node_ip or dport not in TUNNEL_PORTS:
        return False
    inner = ip[header + 8 + 8:]  # past UDP and the vxlan/geneve base header: an Ethernet frame again
    return matches(inner, "inner", pod_ip, port, None)


def _count(watch: _Watch, pod_ip: str, port: int, peer_node_ip: str | None) -> None:
    assert watch.sock is not None
    while True:
        try:
            frame, address = watch.sock.recvfrom(65535)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            watch.error = _errno_name(exc)
            return
        if address[2] != PACKET_OUTGOING and matches(frame, watch.what, pod_ip, port, peer_node_ip):
            watch.packets += 1


def _listen(address: str, port: int, kind: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))  # no SO_REUSEADDR: never share a port
        if kind == socket.SOCK_STREAM:
            sock.listen(4)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def serve_once(pod_ip: str, port: int, deadline: float, watches: list[_Watch], peer_node_ip: str | None) -> Accepted:
    """Listen on pod_ip's family at `port` (TCP and UDP) inside this thread's netns until the source
    said it is done or `deadline`; count the watched devices' packets meanwhile. Closes all."""
    try:
        tcp = _listen(pod_ip, port, socket.SOCK_STREAM)
    except OSError as exc:
        return Accepted(listening=False, error=_errno_name(exc))
    try:
        udp = _listen(pod_ip, port, socket.SOCK_DGRAM)
    except OSError as exc:
        tcp.close()
        return Accepted(listening=False, error=_errno_name(exc))
    conn: socket.socket | None = None
    peer = local = None
    sizes: set[int] = set()
    headers = 48 if ":" in pod_ip else 28
    live = [w for w in watches if w.sock is not None]
    try:
        while (left := deadline - time.monotonic()) > 0:
            waiting = [tcp, udp, *(w.sock for w in live if w.sock is not None), *([conn] if conn else [])]
            readable = select.select(waiting, [], [], min(left, 0.2))[0]
            for watch in live:
                if watch.sock in readable:
                    _count(watch, pod_ip, port, peer_node_ip)
            if udp in readable:
                while True:
                    try:
                        data = udp.recv(65535)
                    except (BlockingIOError, InterruptedError):
                        break
                    sizes.add(len(data) + headers)
            if tcp in readable and conn is None:
                try:
                    conn, address = tcp.accept()
                    peer, local = address[0], conn.getsockname()[0]
                except (BlockingIOError, InterruptedError):
                    pass
            if conn is not None and conn in readable:
                try:
                    said = conn.recv(256)
                except OSError:
                    said = b""
                if DONE in said or not said:
                    time.sleep(0.02)  # the last datagrams
                    try:
                        while True:
                            sizes.add(len(udp.recv(65535)) + headers)
                    except (BlockingIOError, InterruptedError):
                        pass
                    break
    finally:
        for sock in (tcp, udp, conn):
            if sock is not None:
                sock.close()
    return Accepted(listening=True, peer=peer, local=local, udp_sizes=sorted(sizes))


def _target(request: ConnectRequest, facts: NodeFacts, host: netlink.HostNetns, view: NodeView,
            fd: int) -> ConnectSide:
    from kubectl_podnet.checks.report import build_report

    report = build_report(facts)
    family = ipaddress.ip_address(request.peer_ip).version
    pod_ip = _pod_ip(facts, family)
    if pod_ip is None:
        raise UsageError(f"pod {facts.pod.name} has no IPv{family} address to connect to")
    eth0 = primary_interface(facts.interfaces)
    veth = eth0.peer if eth0 is not None else None
    deadline = time.monotonic() + request.timeout
    node_lookup = iif = None
    if not request.same_node and not facts.pod.host_network:
        arrival = tunnel_in(view) or ((view.uplink.name, view.uplink.ifindex) if view.uplink else None)
        if arrival is not None:
            iif = arrival[0]
            node_lookup = netlink.lookup_in(host.ipr, view.links, pod_ip, source=request.peer_ip, iif=arrival[1],
                                            routes=host.main_routes)
    sysctls = read_sysctls([iif or "", veth.name if veth and veth.name else "", veth.master if veth and
                            veth.master else ""])
    before = read_firewall()
    watches = [w for w in (
        None if request.same_node else _open_watch(view.uplink.name if view.uplink else None,
                                                   view.uplink.ifindex if view.uplink else None, "encapsulated"),
        _open_watch(veth.name if veth and veth.name else None, veth.ifindex if veth else None, "inner"),
    ) if w is not None]
    try:
        accepted = run_in_netns(fd, lambda: serve_once(pod_ip, request.port, deadline, watches,
                                                       request.peer_node_ip),
                                name="podnet-connect-listen") if not facts.pod.host_network else \
            serve_once(pod_ip, request.port, deadline, watches, request.peer_node_ip)
    finally:
        for watch in watches:
            if watch.sock is not None:
                watch.sock.close()
    after = read_firewall()
    return ConnectSide(
        role="target", report=report, host_veth=veth.name if veth else None, node_lookup=node_lookup, iif=iif,
        sysctls=sysctls, firewall=before.with_after(after), uplink_mtu=view.uplink.mtu if view.uplink else None,
        accepted=accepted, captures=[Capture(w.device, w.what, w.packets, w.error) for w in watches],
    )


def run_connect(request: ConnectRequest) -> ConnectSide:
    """This node's side of a connect (its role says which), the pod inspected as `inspect` would."""
    validate(request)
    with netlink.host_netns() as host:
        view = read_node_view(host)
        facts = inspect_pod(request.pod, node_view=view, host=host)
        fd = _pod_fd(facts)
        try:
            side = _source if request.role == "source" else _target
            return side(request, facts, host, view, fd)
        finally:
            os.close(fd)

"""Re-record the netlink dumps in this directory from real namespaces (needs root).

    sudo .venv/bin/python -m tests.samples.netlink.record

Builds a lab node (kubectl_podnet.lab: a "node" netns with a cni0 bridge and pods wired
as a CNI plugin wires them) with one pod per scenario, then, from a thread inside each
netns, sends the kernel the same RTM_GETLINK / RTM_GETADDR / RTM_GETROUTE dump requests
`ip link`, `ip addr` and `ip route` send, and saves the raw answer bytes (every
recvmsg, up to and including NLMSG_DONE) as hex: `<netns>.<links|addrs|routes>.dump`.
The facts the tests compare against (pod IPs, host veth names, the netnsids each side
gives the other) go to `meta.json`. The socket is a plain AF_NETLINK one, not pyroute2,
so the dumps are what the kernel said, not what our reader asked for. Tears the lab down
always.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import struct
from pathlib import Path

from kubectl_podnet.lab.spec import ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode
from kubectl_podnet.node import netlink
from kubectl_podnet.node.nsenter import run_in_netns
from kubectl_podnet.node.procfs import NETNS_DIR

HERE = Path(__file__).parent

SCENARIOS = {
    "bridge": PodSpec("bridge", (ContainerSpec("web", listen=("0.0.0.0:8080",)),)),
    "ptp": PodSpec("ptp", (ContainerSpec("web"),), network="ptp"),
    "hostnet": PodSpec("hostnet", (ContainerSpec("agent"),), network="host"),
    "macvlan": PodSpec("macvlan", (ContainerSpec("web"),), extra_interface="macvlan"),
    "dualstack": PodSpec("dualstack", (ContainerSpec("web"),), ipv6=True),
}
PREFIX = "pnrec"

NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
REQUESTS = {  # message type and its family header, all zero: every family, every link
    "links": (18, struct.pack("=BxHiII", 0, 0, 0, 0, 0)),  # RTM_GETLINK + ifinfomsg
    "addrs": (22, struct.pack("=BBBBI", 0, 0, 0, 0, 0)),  # RTM_GETADDR + ifaddrmsg
    "routes": (26, struct.pack("=BBBBBBBBI", 0, 0, 0, 0, 0, 0, 0, 0, 0)),  # RTM_GETROUTE + rtmsg
}


def raw_dump(kind: str) -> bytes:
    """The kernel's whole answer to one dump request, from the calling thread's netns."""
    mtype, body = REQUESTS[kind]
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        sock.send(struct.pack("=IHHII", 16 + len(body), mtype, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
        chunks: list[bytes] = []
        while True:
            data = sock.recv(1 << 20)
            chunks.append(data)
            offset = 0
            while offset + 16 <= len(data):
                length, kind_seen = struct.unpack_from("=IH", data, offset)
                if kind_seen in (NLMSG_DONE, NLMSG_ERROR):
                    return b"".join(chunks)
                offset += (length + 3) & ~3


def save(name: str, kind: str, data: bytes, how: str) -> None:
    lines = [f"# {how}: {kind} dump, {len(data)} bytes, recorded by record.py on Linux {platform.release()}"]
    text = data.hex()
    lines += [text[i : i + 64] for i in range(0, len(text), 64)]
    (HERE / f"{name}.{kind}.dump").write_text("\n".join(lines) + "\n")


def record_netns(path: str, name: str, how: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        for kind in REQUESTS:
            save(name, kind, run_in_netns(fd, lambda kind=kind: raw_dump(kind)), how)  # type: ignore[misc]
    finally:
        os.close(fd)


def nsid(of_path: str, seen_from_path: str) -> int | None:
    seen_from, of = os.open(seen_from_path, os.O_RDONLY), os.open(of_path, os.O_RDONLY)
    try:
        with netlink.open_netns(seen_from) as ipr:
            return netlink.nsid_of(ipr, of)
    finally:
        os.close(seen_from)
        os.close(of)


def main() -> None:
    with LabNode(PREFIX, list(SCENARIOS.values())) as node:
        node_path = f"{NETNS_DIR}/{node.plan.node_netns}"
        record_netns(node_path, "node", "the lab node netns (cni0 bridge, a veth per pod, ptp host routes)")
        meta: dict[str, object] = {"node": {"ip": "10.89.0.2"}, "pods": {}}
        for scenario, pod in zip(SCENARIOS, node.plan.pods):
            facts: dict[str, object] = {
                "podIPs": pod.pod_ips, "hostVeth": pod.host_veth, "network": pod.spec.network,
                "extraInterface": pod.spec.extra_interface,
            }
            if pod.netns is not None:
                pod_path = f"{NETNS_DIR}/{pod.netns}"
                record_netns(pod_path, scenario, f"pod {scenario} ({pod.spec.network} network) in its own netns")
                facts["nodeNsidInPod"] = nsid(node_path, pod_path)
                facts["podNsidInNode"] = nsid(pod_path, node_path)
            meta["pods"][scenario] = facts  # type: ignore[index]
        (HERE / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()

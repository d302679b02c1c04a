"""Re-record the node-path dumps here: a lab node with overlays, and `ip route get` answers (root).

    sudo .venv/bin/python -m tests.samples.netlink.record_path

Builds a lab node (bridge, routed ptp and dual-stack pods; the node's default route via
10.89.0.1 on eth0), adds two vxlan devices (`vx42`: IPv4 underlay, a port of cni0; `vx6`:
IPv6 underlay, 10.244.9.0/24 routed into it), then saves, as hex, the node's link and
route dumps (`pathnode.links.dump`, `pathnode.routes.dump`) and the kernel's answer to one
RTM_GETROUTE per destination (`routeget.<name>.dump`), asked from a plain AF_NETLINK socket
in the node netns exactly as `ip route get DST` asks. The facts to compare with go to
`pathmeta.json`. Tears the lab down always.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import struct
from pathlib import Path

from kubectl_podnet.lab.spec import NODE_IP, ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode, run
from kubectl_podnet.node.nsenter import run_in_netns
from kubectl_podnet.node.procfs import NETNS_DIR
from tests.samples.netlink.record import REQUESTS, raw_dump, save  # the recorder beside this one

HERE = Path(__file__).parent

PODS = [
    PodSpec("bridge", (ContainerSpec("web"),)),
    PodSpec("ptp", (ContainerSpec("web"),), network="ptp"),
    PodSpec("dualstack", (ContainerSpec("web"),), ipv6=True),
]
RTM_GETROUTE, NLM_F_REQUEST, RTA_DST = 26, 0x1, 1


def route_get(destination: str) -> bytes:
    """The kernel's whole answer to one `ip route get destination`, from the calling thread's netns."""
    address = ipaddress.ip_address(destination)
    family = socket.AF_INET if address.version == 4 else socket.AF_INET6
    rtmsg = struct.pack("=BBBBBBBBI", family, address.max_prefixlen, 0, 0, 0, 0, 0, 0, 0)
    attr = struct.pack("=HH", 4 + len(address.packed), RTA_DST) + address.packed
    body = rtmsg + attr
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        sock.send(struct.pack("=IHHII", 16 + len(body), RTM_GETROUTE, NLM_F_REQUEST, 1, 0) + body)
        return sock.recv(1 << 16)


def main() -> None:
    assert set(REQUESTS) >= {"links", "routes"}
    with LabNode("pnrecp", PODS) as node:
        ns = node.plan.node_netns
        run(["ip", "-n", ns, "link", "add", "vx42", "type", "vxlan", "id", "42", "local", NODE_IP, "dstport", "4789",
             "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "vx42", "master", "cni0", "up"])
        run(["ip", "-n", ns, "link", "add", "vx6", "type", "vxlan", "id", "6", "local", "fd00:89::2", "dstport",
             "4790"])
        run(["ip", "-n", ns, "link", "set", "vx6", "mtu", "1430", "up"])
        run(["ip", "-n", ns, "route", "add", "10.244.9.0/24", "dev", "vx6"])
        bridge, ptp, dual = node.plan.pods
        destinations = {"bridge": bridge.ipv4, "ptp": ptp.ipv4, "dualstack6": dual.ipv6 or "",
                        "local": NODE_IP, "overlay": "10.244.9.5", "outside": "192.0.2.50"}
        fd = os.open(f"{NETNS_DIR}/{ns}", os.O_RDONLY)
        try:
            how = "the lab node netns with vxlan vx42 on cni0, vx6 routed into, default via 10.89.0.1"
            for kind in ("links", "routes"):
                save("pathnode", kind, run_in_netns(fd, lambda kind=kind: raw_dump(kind)), how)  # type: ignore[misc]
            for name, destination in destinations.items():
                answer = run_in_netns(fd, lambda d=destination: route_get(d))  # type: ignore[misc]
                save(f"routeget.{name}", "answer", answer, f"ip route get {destination} in the lab node netns")
        finally:
            os.close(fd)
        meta = {"destinations": destinations, "hostVeths": {"bridge": bridge.host_veth, "ptp": ptp.host_veth},
                "uplink": "eth0", "nodeGateway": "10.89.0.1"}
        (HERE / "pathmeta.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()

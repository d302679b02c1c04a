"""Re-record the CNI-shape dumps here from the lab's CNI modes, built for real (needs root).

    sudo .venv/bin/python -m tests.samples.netlink.record_cni

For each CNI lab mode (kindnet, calico, cilium, aws-vpc, azure, calico-noroute,
cilium-routemtu: lab/plan.py builds each from the CNI's documented wiring), saves the lab
node's link and route dumps (`cni-MODE.node.links|routes.dump`), the pod's link, address
and route dumps (`cni-MODE.pod.*.dump`) and the kernel's whole answer to `ip route get
POD_IP` in the node netns (`cni-MODE.routeget.answer.dump`; calico-noroute's is the
NLMSG_ERROR a blackhole gives), the same way record.py and record_path.py ask. The facts to
compare with (pod IP, host veth, the CNI config the mode installs) go to `cnimeta.json`.
Tears every lab down always.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from kubectl_podnet.lab.modes import find_mode
from kubectl_podnet.lab.session import build_mode
from kubectl_podnet.node.nsenter import run_in_netns
from kubectl_podnet.node.procfs import NETNS_DIR
from tests.samples.netlink.record import raw_dump, save
from tests.samples.netlink.record_path import route_get

HERE = Path(__file__).parent

MODES = ("kindnet", "calico", "cilium", "aws-vpc", "azure", "calico-noroute", "cilium-routemtu")


def _dumps(netns: str, name: str, kinds: tuple[str, ...], how: str) -> None:
    fd = os.open(f"{NETNS_DIR}/{netns}", os.O_RDONLY)
    try:
        for kind in kinds:
            save(name, kind, run_in_netns(fd, lambda kind=kind: raw_dump(kind)), how)  # type: ignore[misc]
    finally:
        os.close(fd)


def main() -> None:
    meta: dict[str, object] = {}
    for index, name in enumerate(MODES):
        mode = find_mode(name)
        node = build_mode(mode, f"pnrc{index}")
        try:
            pod = node.plan.pods[0]
            assert pod.netns is not None
            _dumps(node.plan.node_netns, f"cni-{name}.node", ("links", "routes"), f"the lab node of mode {name}")
            _dumps(pod.netns, f"cni-{name}.pod", ("links", "addrs", "routes"), f"the pod of mode {name}")
            fd = os.open(f"{NETNS_DIR}/{node.plan.node_netns}", os.O_RDONLY)
            try:
                answer = run_in_netns(fd, lambda: route_get(pod.ipv4))
            finally:
                os.close(fd)
            save(f"cni-{name}.routeget", "answer", answer, f"ip route get {pod.ipv4} in the lab node of mode {name}")
            file, text = mode.cni_config or ("", "")
            meta[name] = {"podIp": pod.ipv4, "hostVeth": pod.host_veth, "configFile": file, "configText": text}
        finally:
            node.teardown()
    (HERE / "cnimeta.json").write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Re-record the sock_diag dumps in this directory from a real netns (needs root).

    sudo .venv/bin/python -m tests.samples.sock_diag.record

Builds a lab pod with TCP listeners on 0.0.0.0:8080, [::]:8081, [::1]:9090 and
127.0.0.1:7070, then, from a thread inside its netns, asks sock_diag for the TCP sockets in
LISTEN of each family (what the agent asks) and saves the raw answer as hex
(`<family>.dump`), beside the same netns's /proc/net/tcp{,6} text (`tcp`, `tcp6`): the tests
check that both give the same listeners. Tears the lab down always.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from kubectl_podnet.lab.spec import ContainerSpec, PodSpec
from kubectl_podnet.lab.world import LabNode
from kubectl_podnet.node import netlink
from kubectl_podnet.node.nsenter import run_in_netns
from kubectl_podnet.node.procfs import NETNS_DIR, ProcFS

HERE = Path(__file__).parent

POD = PodSpec("listeners", (
    ContainerSpec("web", listen=("0.0.0.0:8080",)),
    ContainerSpec("api", listen=("[::]:8081",)),
    ContainerSpec("admin", listen=("[::1]:9090", "127.0.0.1:7070")),
), ipv6=True)


def main() -> None:
    with LabNode("pnsdrec", [POD]) as node:
        netns = node.plan.pods[0].netns
        assert netns is not None
        fd = os.open(f"{NETNS_DIR}/{netns}", os.O_RDONLY)
        try:
            for family, table in ((4, "tcp"), (6, "tcp6")):
                data = run_in_netns(fd, lambda family=family: netlink.dump_tcp_listeners(family))  # type: ignore[misc]
                text = data.hex()
                lines = [f"# sock_diag TCP LISTEN dump, family {family}, {len(data)} bytes, "
                         f"recorded by record.py on Linux {platform.release()}"]
                lines += [text[i : i + 64] for i in range(0, len(text), 64)]
                (HERE / f"inet{family}.dump").write_text("\n".join(lines) + "\n")
                proc = run_in_netns(fd, lambda table=table: ProcFS().read("thread-self", f"net/{table}"))  # type: ignore[misc]
                (HERE / table).write_text(proc or "")
        finally:
            os.close(fd)


if __name__ == "__main__":
    main()

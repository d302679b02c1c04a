#!/usr/bin/env python3
"""Re-record the connect samples here from the real three-node kind cluster (needs it up).

    python3 -m testbeds.kindcluster run -- .venv/bin/python -m tests.samples.connect.record

Two busybox servers on the two workers, then `connect a b:8080 -o json` healthy, on one
node, and with each fault of e2e/test_connect.py injected on a node container (and removed
right after): the whole PodNetConnect documents, both nodes' facts in them, saved as
`kind-CASE.json`. tests/unit/test_hops.py judges those facts again. The namespace is
deleted at the end.

On a fresh kind cluster install the agent from its own image first (no registry here):
`kubectl podnet agent install --agent-image localhost/podnet/python:3.11-bookworm`.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

HERE = Path(__file__).resolve().parent

from e2e import clusters
from e2e import nodes as n
from e2e import workloads as w
from e2e.clients import Kubectl, Podnet


def main() -> None:
    target = clusters.resolve(clusters.Wanted(None, None, None, None, keep_cluster=True))
    kubectl = Kubectl(target.kubectl, target.kubeconfig)
    podnet = Podnet(target.kubeconfig, target.agent_image)
    workers = [node for node in n.node_names(kubectl) if "control-plane" not in node][:2]
    namespace = f"record-connect-{secrets.token_hex(3)}"
    kubectl.create_namespace(namespace, "podnet-e2e/run=record")
    placed = {"a": workers[0], "b": workers[1], "c": workers[0]}

    def connect(to: str = "b") -> dict[str, object]:
        run = podnet("connect", "a", f"{to}:8080", "-n", namespace, "-o", "json", "-q", timeout=300)
        assert run.code in (0, 1), run.describe()
        document: dict[str, object] = run.json()
        return document

    def save(case: str, document: dict[str, object]) -> None:
        (HERE / f"kind-{case}.json").write_text(json.dumps(document, indent=1) + "\n")
        print(f"kind-{case}.json: {document['verdict']}", flush=True)

    def faulted(case: str, node: str, inject: list[str], remove: list[str]) -> None:
        n.docker_run("exec", node, *inject)
        try:
            save(case, connect())
        finally:
            n.docker_run("exec", node, *remove)

    try:
        kubectl.apply(*[w.pod(pod, [w.server("web", target.workload_image, 8080)], tolerate_all=True,
                              node_selector={"kubernetes.io/hostname": node}) for pod, node in placed.items()],
                      namespace=namespace)
        kubectl.wait_ready(namespace, *placed)
        healthy = connect()
        save("across", healthy)
        save("one-node", connect("c"))
        a_ip = healthy["source"]["report"]["pod"]["podIps"][0]  # type: ignore[index]
        b_ip = healthy["target"]["report"]["pod"]["podIps"][0]  # type: ignore[index]
        masq = ["POSTROUTING", "-s", a_ip, "-d", b_ip, "-j", "MASQUERADE"]
        faulted("masquerade", workers[0], ["iptables", "-t", "nat", "-I", *masq], ["iptables", "-t", "nat", "-D", *masq])
        drop = ["INPUT", "-p", "udp", "--dport", "8472", "-j", "DROP"]
        faulted("vxlan-dropped", workers[1], ["iptables", "-I", *drop], ["iptables", "-D", *drop])
        faulted("underlay-mtu", workers[1], ["ip", "link", "set", "eth0", "mtu", "1400"],
                ["ip", "link", "set", "eth0", "mtu", "1500"])
        forward = ["FORWARD", "-s", a_ip, "-d", b_ip, "-j", "DROP"]
        faulted("forward-drop", workers[0], ["iptables", "-I", *forward], ["iptables", "-D", *forward])
        tunnel = healthy["source"]["tunnel"]  # type: ignore[index]
        entry = ["bridge", "fdb", "replace", tunnel["gatewayMac"], "dev", tunnel["name"], "self", "permanent", "dst"]
        faulted("stale-fdb", workers[0], [*entry, "172.18.255.254"], [*entry, tunnel["remotes"][0]])
    finally:
        kubectl("delete", "namespace", namespace, "--wait=true", "--timeout=300s", check=False, timeout=360)


if __name__ == "__main__":
    main()

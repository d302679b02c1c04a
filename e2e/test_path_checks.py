"""Scenarios 14-17: the breaks around the pod (pod-ip, routes, mtu, UDP), made for real on the cluster."""

from __future__ import annotations

from typing import Any

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet
from e2e.leftovers import AGENT_NAMESPACE, AGENT_SELECTOR
from e2e.reports import checks, mtu_is_fine_here, report_of


def test_server_on_127_0_0_1_behind_a_declared_container_port_fails_pod_ip_with_the_fix(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    server = w.server("server", image, 8080, bind="127.0.0.1")
    server["ports"] = [{"name": "http", "containerPort": 8080}]
    kubectl.apply(w.pod("lo", [server]), namespace=namespace)
    kubectl.wait_ready(namespace, "lo")
    pod_ip = kubectl.get("pod", "lo", "-n", namespace)["status"]["podIP"]

    report = report_of(podnet.inspect("lo", namespace), 1)

    found = checks(report)
    check = found["pod-ip"]
    assert check["status"] == "fail", check
    assert check["summary"].startswith(
        f"server 127.0.0.1:8080 is bound only to 127.0.0.1: not reachable at the pod IP ({pod_ip}:8080 "), check
    assert "declared 8080/tcp (containerPort 'http' of server)" in check["summary"], check
    assert "bind 0.0.0.0 or [::]" in check["fix"], check
    assert found["localhost"]["status"] == "pass", found["localhost"]
    assert [(p["target"], p["port"], p["ok"]) for p in report["podIpProbes"]] == [(pod_ip, 8080, False)]
    # the table says it to people too, fix included
    table = podnet("inspect", "lo", "-n", namespace, "--timeout", "120")
    assert table.code == 1 and "pod-ip" in table.stdout and "fix: bind 0.0.0.0 or [::]" in table.stdout, table.describe()


def test_pod_that_deleted_its_default_route_fails_routes(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    # no privilege: the container's own NET_ADMIN capability, as a misbehaving sidecar has it
    main = w.idle("main", image, ready_when=["sh", "-c", "! ip route | grep -q '^default'"])
    main["command"] = ["sh", "-c", "ip route del default && exec sleep 3600"]
    main["securityContext"] = {"capabilities": {"add": ["NET_ADMIN"]}}
    kubectl.apply(w.pod("noroute", [main]), namespace=namespace)
    kubectl.wait_ready(namespace, "noroute")
    pod_ip = kubectl.get("pod", "noroute", "-n", namespace)["status"]["podIP"]

    report = report_of(podnet.inspect("noroute", namespace), 1)

    check = checks(report)["routes"]
    assert check["status"] == "fail" and check["summary"] == "no IPv4 default route in the pod netns", check
    assert not any(route.startswith("default") for route in check["evidence"]["podRoutes"]), check
    assert [route.split()[0] for route in check["evidence"]["nodeRoutes"]] == [pod_ip], check
    assert check["fix"], check


def _node_tool(kubectl: Kubectl, node: str, pause_pid: int, *argv: str) -> None:
    """Run the node's own `ip` in the pod's netns, from the agent pod (hostPID, privileged).

    The node's tools live in a host process's mount namespace (the kubelet's); the agent
    image has nsenter but no `ip`.
    """
    agent = kubectl("get", "pods", "-n", AGENT_NAMESPACE, "-l", AGENT_SELECTOR, "--field-selector",
                    f"spec.nodeName={node}", "-o", "jsonpath={.items[0].metadata.name}").stdout.strip()
    find_kubelet = ("for c in /proc/[0-9]*/comm; do [ \"$(cat $c 2>/dev/null)\" = kubelet ] && "
                    "{ p=${c#/proc/}; echo ${p%/comm}; break; }; done")
    kubelet = kubectl("exec", "-n", AGENT_NAMESPACE, agent, "--", "sh", "-c", find_kubelet).stdout.strip()
    assert kubelet.isdigit(), f"no kubelet process seen from the agent on {node}"
    kubectl("exec", "-n", AGENT_NAMESPACE, agent, "--", "nsenter", f"--mount=/proc/{kubelet}/ns/mnt",
            f"--net=/proc/{pause_pid}/ns/net", *argv)


def test_pod_whose_eth0_mtu_was_lowered_from_the_node_fails_mtu(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod("small", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "small")
    before = report_of(podnet.inspect("small", namespace), 0)
    assert mtu_is_fine_here(before), checks(before)["mtu"]
    pause = before["sandbox"]["pid"]
    assert isinstance(pause, int), before["sandbox"]

    _node_tool(kubectl, before["pod"]["node"], pause, "ip", "link", "set", "eth0", "mtu", "1280")
    report = report_of(podnet.inspect("small", namespace), 1)

    check = checks(report)["mtu"]
    peer = next(i for i in report["interfaces"] if i["name"] == "eth0")["peer"]
    assert check["status"] == "fail", check
    assert check["summary"].startswith(f"eth0 mtu 1280 but its host peer {peer['name']} mtu {peer['mtu']}"), check
    assert check["evidence"]["eth0"] == {"eth0": 1280}, check


def _udp_server(image: str) -> dict[str, Any]:
    """busybox's DHCP server: the one UDP server in both busybox builds (UDP 0.0.0.0:67)."""
    config = "start 192.0.2.100\\nend 192.0.2.110\\ninterface eth0\\nlease_file /tmp/leases\\n"
    container = w.idle("dhcp", image, ready_when=["sh", "-c", "grep -q ':0043 00000000:0000 07' /proc/net/udp"])
    container["command"] = ["sh", "-c", f"touch /tmp/leases && printf '{config}' > /tmp/udhcpd.conf && "
                            "exec udhcpd -f /tmp/udhcpd.conf"]
    container["ports"] = [{"containerPort": 67, "protocol": "UDP"}]
    return container


def test_udp_server_is_listed_with_its_container_and_judged_from_its_bind_address(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod("udp", [_udp_server(image), w.server("web", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "udp")

    report = report_of(podnet.inspect("udp", namespace), 0)

    udp = [(l["container"], l["address"], l["port"]) for l in report["listeners"] if l["protocol"] == "udp"]
    assert udp == [("dhcp", "0.0.0.0", 67)], report["listeners"]
    assert any(l["protocol"] == "tcp" and l["port"] == 8080 for l in report["listeners"]), report["listeners"]
    found = checks(report)
    assert found["localhost"]["status"] == "pass", found["localhost"]
    assert "UDP 67" in found["localhost"]["summary"], found["localhost"]
    assert "inferred from the bind address, not probed" in found["localhost"]["summary"], found["localhost"]
    entries = {(p["protocol"], p["port"]): p for p in found["pod-ip"]["evidence"]["ports"]}
    assert entries[("udp", 67)]["status"] == "pass" and "inferred" in entries[("udp", 67)]["detail"], entries
    assert entries[("udp", 67)]["declared"] == ["67/udp (containerPort of dhcp)"], entries
    assert entries[("tcp", 8080)]["status"] == "pass", entries
    assert not any(p["port"] == 67 for p in report["probes"] + report["podIpProbes"])  # UDP is never dialled

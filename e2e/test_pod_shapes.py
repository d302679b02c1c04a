"""Scenarios 1-5: real pods of different shapes, each asserted on the JSON report and exit code."""

from __future__ import annotations

from e2e import workloads as w
from e2e.clients import Kubectl, Podnet
from e2e.reports import checks, container, eth0, mtu_is_fine_here, report_of, statuses


def test_server_and_sidecar_pass_every_check_and_name_the_host_veth(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    # the client is Ready only while it reaches the server on 127.0.0.1: the kubelet proves it
    kubectl.apply(w.pod("web", [
        w.server("server", image, 8080),
        w.idle("client", image, ready_when=w.reaches("127.0.0.1", 8080)),
    ]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")
    reached = kubectl("exec", "-n", namespace, "web", "-c", "client", "--", *w.reaches("127.0.0.1", 8080),
                      check=False)
    assert reached.code == 0, reached.describe()

    report = report_of(podnet.inspect("web", namespace), 0)

    # mtu may warn where the node's uplink is smaller than eth0 (this host: 1400 < 1500): see mtu_is_fine_here
    assert {k: v for k, v in statuses(report).items() if k != "mtu"} == dict.fromkeys(
        [k for k in statuses(report) if k != "mtu"], "pass"), report["checks"]
    assert mtu_is_fine_here(report), checks(report)["mtu"]
    assert {c["name"] for c in report["containers"]} == {"server", "client"}
    sandbox = report["sandbox"]["netnsInode"]
    assert all(c["netnsInode"] == sandbox for c in report["containers"])
    assert report["sandbox"]["source"] in ("pause-process", "pinned-netns")
    pod_ips = kubectl.get("pod", "web", "-n", namespace)["status"]["podIPs"]
    assert {a["address"] for a in eth0(report)["addresses"]} >= {ip["ip"] for ip in pod_ips}
    peer = eth0(report)["peer"]
    assert peer and peer["confirmed"] and peer["name"], eth0(report)
    # a bridge CNI names the bridge (cni0 here); kind's ptp CNI a /32 route to the pod
    assert peer["master"] or peer["routes"], peer
    assert peer["name"] in checks(report)["single-veth"]["summary"]
    listener_ports = {(l["port"], l["container"]) for l in report["listeners"]}
    assert (8080, "server") in listener_ports, report["listeners"]
    assert any(p["target"] == "127.0.0.1" and p["port"] == 8080 and p["ok"] for p in report["probes"])


def test_server_bound_to_the_pod_ip_fails_localhost_with_the_reason(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod("podip", [w.server("server", image, 8080, bind="$POD_IP")]), namespace=namespace)
    kubectl.wait_ready(namespace, "podip")
    pod_ip = kubectl.get("pod", "podip", "-n", namespace)["status"]["podIP"]

    report = report_of(podnet.inspect("podip", namespace), 1)

    found = checks(report)
    assert found["localhost"]["status"] == "fail", found["localhost"]
    assert f"bound only to {pod_ip}" in found["localhost"]["summary"], found["localhost"]
    assert found["localhost"]["fix"], found["localhost"]
    assert [l["address"] for l in report["listeners"]] == [pod_ip]
    assert not any(p["ok"] for p in report["probes"] if p["port"] == 8080), report["probes"]
    assert {k: v for k, v in statuses(report).items() if k not in ("localhost", "mtu")} == dict.fromkeys(
        ("pause-container", "shared-netns", "shared-ip", "single-veth", "pod-ip", "routes"), "pass"
    )
    assert mtu_is_fine_here(report), checks(report)["mtu"]
    # the mirror of localhost: bound to the pod IP, it answers there
    assert checks(report)["pod-ip"]["summary"] == f"8080/tcp reachable at {pod_ip}:8080", checks(report)["pod-ip"]


def test_host_network_pod_is_reported_as_host_networking_without_a_veth(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod("hostnet", [w.idle("main", image)], host_network=True), namespace=namespace)
    kubectl.wait_ready(namespace, "hostnet")

    report = report_of(podnet.inspect("hostnet", namespace), 0)

    assert report["pod"]["hostNetwork"] is True
    found = checks(report)
    assert found["single-veth"]["status"] == "skip", found["single-veth"]
    assert found["shared-netns"]["status"] == "pass", found["shared-netns"]
    assert container(report, "main")["netnsInode"] == report["nodeNetnsInode"]
    assert found["shared-ip"]["status"] in ("pass", "skip"), found["shared-ip"]
    assert (found["routes"]["status"], found["mtu"]["status"]) == ("skip", "skip"), report["checks"]
    assert found["pod-ip"]["status"] in ("pass", "skip"), found["pod-ip"]  # idle: nothing to dial


def test_native_sidecar_and_app_share_the_netns(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod(
        "native",
        [w.idle("app", image, ready_when=w.reaches("127.0.0.1", 9090))],
        init_containers=[w.native_sidecar(w.server("proxy", image, 9090))],
    ), namespace=namespace)
    kubectl.wait_ready(namespace, "native")

    report = report_of(podnet.inspect("native", namespace), 0)

    roles = {c["name"]: c["role"] for c in report["containers"]}
    assert roles == {"proxy": "sidecar", "app": "app"}, roles
    sandbox = report["sandbox"]["netnsInode"]
    assert container(report, "proxy")["netnsInode"] == sandbox == container(report, "app")["netnsInode"]
    found = checks(report)
    assert found["shared-netns"]["status"] == "pass", found["shared-netns"]
    assert set(found["shared-netns"]["evidence"]["containers"]) == {"proxy", "app"}
    assert found["localhost"]["status"] == "pass", found["localhost"]
    assert (found["pod-ip"]["status"], found["routes"]["status"]) == ("pass", "pass"), report["checks"]
    assert mtu_is_fine_here(report), found["mtu"]


def test_three_containers_listening_on_ipv4_and_ipv6_loopback_are_all_probed(
    kubectl: Kubectl, podnet: Podnet, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod("trio", [
        w.server("any4", image, 8081, bind="0.0.0.0"),
        w.server("lo4", image, 8082, bind="127.0.0.1"),
        w.server("lo6", image, 8083, bind="[::1]"),
    ]), namespace=namespace)
    kubectl.wait_ready(namespace, "trio")

    # a listener only on [::1] is a warning, not a failure: exit 0
    report = report_of(podnet.inspect("trio", namespace), 0)

    listeners = {(l["container"], l["family"], l["address"], l["port"]) for l in report["listeners"]}
    assert listeners == {("any4", 4, "0.0.0.0", 8081), ("lo4", 4, "127.0.0.1", 8082), ("lo6", 6, "::1", 8083)}
    probes = {(p["target"], p["port"]): p["ok"] for p in report["probes"]}
    assert probes == {
        ("127.0.0.1", 8081): True, ("::1", 8081): False,
        ("127.0.0.1", 8082): True, ("::1", 8082): False,
        ("127.0.0.1", 8083): False, ("::1", 8083): True,
    }, report["probes"]
    found = checks(report)
    assert found["localhost"]["status"] == "warn", found["localhost"]
    assert "[::1]:8083" in found["localhost"]["summary"], found["localhost"]
    # undeclared loopback-only ports are noted by pod-ip, not failed: only 8081 must answer at the pod IP
    pod_ip = found["pod-ip"]
    assert pod_ip["status"] == "pass", pod_ip
    assert [(p["port"], p["status"]) for p in pod_ip["evidence"]["ports"]] == [(8081, "pass"), (8082, "note"),
                                                                               (8083, "note")], pod_ip
    assert found["routes"]["status"] == "pass" and mtu_is_fine_here(report), report["checks"]
    assert len(report["containers"]) == 3
    assert len({c["netnsInode"] for c in report["containers"]}) == 1

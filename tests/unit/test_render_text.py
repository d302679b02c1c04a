"""Renderers as exact strings at a fixed width, no colour."""

from __future__ import annotations

import dataclasses

from kubectl_podnet.checks.registry import CHECKS
from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.checks.report import build_report
from kubectl_podnet.model import AttachedNetwork, ContainerState, Interface, Listener, OverlayLink, Peer, Probe, Sandbox
from kubectl_podnet.render.commands import manual_commands
from kubectl_podnet.render.text import render_text, render_topology
from tests.factories import LO, NODE_NETNS, container, eth0, healthy

HEALTHY_80 = f"""\
Pod default/web on node kind-worker

CHECK            STATUS  DETAIL
pause-container  PASS    pause pid 4711 holds net:[4026532181]
shared-netns     PASS    web, sidecar share the sandbox netns net:[4026532181]
shared-ip        PASS    10.244.1.5/24 on eth0, one IP per family for every
                         container
single-veth      PASS    eth0 <-> veth3a1f09c2 (host, ifindex 7) on bridge cni0
localhost        PASS    every TCP listener reachable over 127.0.0.1 from the
                         pod netns: 8080
pod-ip           PASS    8080/tcp reachable at 10.244.1.5:8080
routes           PASS    pod: default via 10.244.1.1 dev eth0; node: 10.244.1.5
                         dev cni0
mtu              PASS    eth0 mtu 1500 = veth3a1f09c2 (host); fits node uplink
                         ens3 mtu 1500

Topology:
  containers web, sidecar -> netns net:[4026532181] (pause pid 4711)
      -> eth0 10.244.1.5/24 mtu 1500 <-veth pair-> veth3a1f09c2 (host)
      -> cni0 (bridge) -> uplink ens3 (mtu 1500)

Verdict: PASS ({len(CHECKS)} passed, 0 warnings, 0 failed, 0 skipped)
"""


def test_healthy_pod_at_80_columns() -> None:
    assert render_text(build_report(healthy()), 80) == HEALTHY_80


def test_failed_check_shows_its_fix_under_the_detail() -> None:
    facts = healthy(
        listeners=[Listener(4, "10.244.1.5", 8080, 1, "web")],
        probes=[Probe("127.0.0.1", 8080, False, "ECONNREFUSED", 0.1), Probe("::1", 8080, False, "ECONNREFUSED", 0.1)],
    )  # reachable at the pod IP (pod-ip passes), not over loopback
    text = render_text(build_report(facts), 80)
    assert (
        "localhost        FAIL    web 10.244.1.5:8080 is bound only to 10.244.1.5: not\n"
        "                         reachable over localhost\n"
        "                         fix: bind 0.0.0.0 or [::] (or 127.0.0.1 if only the pod\n"
        "                         itself needs the port)\n"
    ) in text
    assert text.endswith(f"Verdict: FAIL ({len(CHECKS) - 1} passed, 0 warnings, 1 failed, 0 skipped)\n")


def test_topology_on_one_line_when_wide_enough() -> None:
    assert render_topology(build_report(healthy()), 200) == [
        "containers web, sidecar -> netns net:[4026532181] (pause pid 4711) -> eth0 10.244.1.5/24 mtu 1500 "
        "<-veth pair-> veth3a1f09c2 (host) -> cni0 (bridge) -> uplink ens3 (mtu 1500)"
    ]


def test_topology_names_an_overlay_on_the_path_a_peer_mtu_that_differs_and_multus_networks() -> None:
    peer = Peer(ifindex=7, name="veth3a1f09c2", kind="veth", confirmed=True, master="cni0", master_kind="bridge",
                mtu=1450)
    net1 = Interface(3, "net1", "macvlan", 1500, "up", None)
    pod = dataclasses.replace(healthy().pod, networks=[AttachedNetwork("default/macvlan-conf", "net1")])
    facts = healthy(pod=pod, interfaces=[LO, eth0(peer=peer), net1],
                    overlays=[OverlayLink("flannel.1", "vxlan", 1450, 4, routes=["10.244.2.0/24"])])
    assert render_topology(build_report(facts), 300)[0].endswith(
        "<-veth pair-> veth3a1f09c2 (host, mtu 1450) -> cni0 (bridge) -> vxlan flannel.1 (mtu 1450) "
        "-> uplink ens3 (mtu 1500) -> also: net1 (macvlan, network default/macvlan-conf)"
    )


def test_topology_of_a_routed_pod_names_the_host_route() -> None:
    peer = Peer(ifindex=9, name="veth0c1d2e3f", kind="veth", confirmed=True, routes=["10.244.1.5/32"])
    line = render_topology(build_report(healthy(interfaces=[LO, eth0(peer=peer)])), 200)[0]
    assert line.endswith("<-veth pair-> veth0c1d2e3f (host) -> routed (10.244.1.5/32) -> uplink ens3 (mtu 1500)")


def test_topology_of_a_host_network_pod() -> None:
    pod = dataclasses.replace(healthy().pod, host_network=True)
    report = build_report(healthy(pod=pod, containers=[container("agent", "a" * 64, 5, NODE_NETNS)]))
    assert render_topology(report, 200) == [
        f"containers agent -> node netns net:[{NODE_NETNS}] (pause pid 4711) -> node interfaces "
        "(hostNetwork: no veth of its own)"
    ]
    assert render_text(report, 80).startswith("Pod default/web on node kind-worker (hostNetwork)\n")


def test_topology_of_a_pinned_netns_sandbox() -> None:
    sandbox = Sandbox(source="pinned-netns", netns_inode=1, netns_path="/var/run/netns/p", pinned_path="/var/run/netns/p")
    assert "netns net:[1] (pinned at /var/run/netns/p, no pause)" in render_topology(build_report(healthy(sandbox=sandbox)), 200)[0]


def test_manual_commands_use_the_real_pids_names_and_ports() -> None:
    lines = manual_commands(build_report(healthy()))
    assert "readlink /proc/4711/ns/net   # pause: the pod netns every container must share" in lines
    assert "nsenter -t 4711 -n ip -d link   # eth0: 'veth ... link-netnsid N', @ifNN is the host peer's ifindex" in lines
    assert "ip link show master cni0   # every veth on the bridge" in lines
    assert "nsenter -t 4711 -n bash -c 'echo > /dev/tcp/127.0.0.1/8080' && echo reachable   # port 8080" in lines
    assert "bash -c 'echo > /dev/tcp/10.244.1.5/8080' && echo reachable   # from the node: port 8080 at the pod IP" in lines
    assert "ip route get 10.244.1.5   # the node's route to the pod: must leave by veth3a1f09c2 or cni0" in lines
    assert "nsenter -t 4711 -n ip -d link show eth0   # its mtu must equal the host peer's" in lines


def test_manual_commands_stand_under_the_check_they_redo_in_report_order() -> None:
    lines = manual_commands(build_report(healthy()))
    headers = {line[2:].split(":")[0]: at for at, line in enumerate(lines) if line.startswith("# ") and at > 0}
    assert list(headers) == list(CHECK_IDS)  # a healthy bridge pod: every check has commands to redo it
    route_get = lines.index("ip route get 10.244.1.5   # the node's route to the pod: must leave by veth3a1f09c2 or cni0")
    assert headers["routes"] < route_get < headers["mtu"]


def test_a_host_network_pod_gets_no_veth_route_or_mtu_commands() -> None:
    lines = manual_commands(build_report(healthy(pod=dataclasses.replace(healthy().pod, host_network=True))))
    headers = [line[2:].split(":")[0] for line in lines[1:] if line.startswith("# ")]
    assert "single-veth" not in headers and "routes" not in headers and "mtu" not in headers
    assert "ip -br addr   # hostNetwork: the pod sees the node's interfaces" in lines


def test_manual_commands_for_a_pinned_netns_use_ip_netns_exec() -> None:
    sandbox = Sandbox(source="pinned-netns", netns_inode=1, netns_path="/var/run/netns/p", pinned_path="/var/run/netns/p")
    lines = manual_commands(build_report(healthy(sandbox=sandbox)))
    assert "ip netns exec p ip -br addr" in lines


def test_topology_leaves_out_a_container_that_is_not_running() -> None:
    crashing = dataclasses.replace(container("crash", "d" * 64, 0, netns=None),
                                   status=ContainerState("waiting", "CrashLoopBackOff", restart_count=2))
    report = build_report(healthy(containers=[*healthy().containers, crashing]))
    assert render_topology(report, 200)[0].startswith("containers web, sidecar -> netns")

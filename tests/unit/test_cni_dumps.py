"""Each CNI shape read from netlink dumps recorded in real namespaces (tests/samples/netlink,
record_cni.py: the lab's CNI modes, built from each CNI's documented wiring), then judged.

What the kernel said is parsed by the same parsers the agent runs (route types and metrics
included), the CNI named from the recorded devices and the mode's config, the node's
`ip route get POD_IP` answer read back, and `routes`, `mtu` and `single-veth` run on facts
assembled from the dumps alone.
"""

from __future__ import annotations

import errno
import json
import struct
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from kubectl_podnet.checks.path import check_mtu, check_routes
from kubectl_podnet.checks.sandbox import check_single_veth
from kubectl_podnet.cni import identify
from kubectl_podnet.model import CniConfig, CniInfo, NodeFacts, Route, RouteLookup
from kubectl_podnet.node import netlink, rtnl, rtnl_path
from kubectl_podnet.node.cniconf import parse_cni_config
from tests.factories import healthy

SAMPLES = Path(__file__).parent.parent / "samples" / "netlink"
META: dict[str, Any] = json.loads((SAMPLES / "cnimeta.json").read_text())
HEALTHY = ("kindnet", "calico", "cilium", "aws-vpc", "azure")


def _raw(name: str) -> bytes:
    text = (SAMPLES / f"{name}.dump").read_text()
    return bytes.fromhex("".join(line for line in text.splitlines() if not line.startswith("#")))


@cache
def dump(name: str) -> list[Any]:
    return netlink.decode_dump(_raw(name))


def config(mode: str) -> CniConfig | None:
    return parse_cni_config(META[mode]["configFile"], META[mode]["configText"])


def node_routes(mode: str) -> list[Route]:
    names = {msg["index"]: msg.get("ifname") for msg in dump(f"cni-{mode}.node.links")}
    return rtnl.parse_routes(dump(f"cni-{mode}.node.routes"), names)


def pod_routes(mode: str) -> list[Route]:
    names = {msg["index"]: msg.get("ifname") for msg in dump(f"cni-{mode}.pod.links")}
    return rtnl.parse_routes(dump(f"cni-{mode}.pod.routes"), names)


def cni_of(mode: str, with_config: bool = True) -> CniInfo:
    links = rtnl_path.parse_node_links(dump(f"cni-{mode}.node.links"))
    overlays = rtnl_path.parse_overlays(dump(f"cni-{mode}.node.links"), dump(f"cni-{mode}.node.routes"))
    return identify(list(links.values()), overlays, config(mode) if with_config else None)


def lookup(mode: str) -> RouteLookup:
    raw = _raw(f"cni-{mode}.routeget.answer")
    if struct.unpack_from("=H", raw, 4)[0] == 2:  # NLMSG_ERROR: the nlmsgerr's errno follows the header
        code = -struct.unpack_from("=i", raw, 16)[0]
        failed = rtnl_path.parse_route_lookup(META[mode]["podIp"], None, errno.errorcode[code], None)
        return RouteLookup(**{**failed.__dict__, "matched": rtnl_path.longest_match(META[mode]["podIp"],
                                                                                      node_routes(mode))})
    (answer,) = dump(f"cni-{mode}.routeget.answer")
    links = rtnl_path.parse_node_links(dump(f"cni-{mode}.node.links"))
    oif = rtnl_path.route_oif(answer)
    return rtnl_path.parse_route_lookup(META[mode]["podIp"], answer, None, links.get(oif) if oif is not None else None)


def facts(mode: str) -> NodeFacts:
    """A pod's facts from its mode's dumps alone: its interfaces and routes, eth0's host peer as
    the node's links name it, the node's lookup, uplink, tunnels and CNI."""
    pod_links, node_links = dump(f"cni-{mode}.pod.links"), {m["index"]: m for m in dump(f"cni-{mode}.node.links")}
    interfaces = rtnl.parse_interfaces(pod_links, dump(f"cni-{mode}.pod.addrs"))
    eth0 = next(i for i in interfaces if i.name == "eth0")
    host = node_links[eth0.link_ifindex]
    peer = rtnl.match_peer(eth0, host, host.get("link_netnsid"), None,
                           rtnl.routes_via(dump(f"cni-{mode}.node.routes"), host["index"]))
    base = healthy()
    return NodeFacts(
        pod=type(base.pod)(**{**base.pod.__dict__, "pod_ips": [META[mode]["podIp"]]}),
        sandbox=base.sandbox, node_netns_inode=base.node_netns_inode, containers=base.containers,
        expected_containers=[], interfaces=[i if i.name != "eth0" else type(i)(**{**i.__dict__, "peer": peer})
                                            for i in interfaces],
        routes=pod_routes(mode), listeners=[], probes=[], node_routes=[lookup(mode)],
        uplink=rtnl_path.parse_uplink(node_links.values(), dump(f"cni-{mode}.node.routes")),
        overlays=rtnl_path.parse_overlays(list(node_links.values()), dump(f"cni-{mode}.node.routes")),
        cni=cni_of(mode),
    )


@pytest.mark.parametrize("mode", HEALTHY)
def test_each_cni_is_named_from_its_recorded_devices_and_config(mode: str) -> None:
    assert cni_of(mode).family == mode
    assert cni_of(mode).config == config(mode)


@pytest.mark.parametrize("mode", ["calico", "cilium", "aws-vpc", "azure"])
def test_devices_alone_name_every_cni_that_leaves_its_own_mark(mode: str) -> None:
    assert cni_of(mode, with_config=False).family == mode


def test_kindnet_is_only_the_ptp_shape_without_its_config() -> None:
    assert cni_of("kindnet", with_config=False).family != "kindnet"


def test_cilium_is_vxlan_through_an_unrouted_cilium_vxlan() -> None:
    cni = cni_of("cilium")
    assert (cni.mode, cni.tunnels) == ("vxlan", ["cilium_vxlan"])
    assert cni_of("calico").mode == "vxlan" and cni_of("calico").tunnels == []


def test_route_types_and_metrics_come_from_the_kernels_own_dumps() -> None:
    cilium_default = next(r for r in pod_routes("cilium") if r.dst == "default")
    assert (cilium_default.gateway, cilium_default.mtu, cilium_default.type) == ("10.244.128.1", 1450, "unicast")
    assert next(r for r in pod_routes("cilium-routemtu") if r.dst == "default").mtu is None
    remote = next(r for r in node_routes("cilium") if r.dst == "10.244.129.0/24")
    assert (remote.dev, remote.mtu) == ("cilium_host", 1450)
    blackhole = next(r for r in node_routes("calico") if r.dst == "10.244.64.0/26")
    assert (blackhole.type, blackhole.dev) == ("blackhole", None)
    for mode in ("calico", "aws-vpc", "azure"):
        assert next(r for r in pod_routes(mode) if r.dst == "default").gateway == "169.254.1.1"


def test_the_recorded_lookups_name_each_cnis_device() -> None:
    cilium = lookup("cilium")
    assert (cilium.dev, cilium.kind, cilium.peer_elsewhere) == ("cilium_host", "veth", False)
    calico = lookup("calico")
    assert (calico.dev, calico.peer_elsewhere) == (META["calico"]["hostVeth"], True)
    lost = lookup("calico-noroute")
    assert lost.error == "EINVAL" and lost.matched is not None and lost.matched.type == "blackhole"


@pytest.mark.parametrize("mode", HEALTHY)
def test_each_healthy_shape_passes_routes_mtu_and_single_veth_from_its_dumps(mode: str) -> None:
    shape = facts(mode)
    assert [check(shape).status for check in (check_routes, check_mtu, check_single_veth)] == ["pass"] * 3, [
        check(shape).summary for check in (check_routes, check_mtu, check_single_veth)]


def test_calico_noroute_fails_routes_with_calicos_words_from_its_dumps() -> None:
    result = check_routes(facts("calico-noroute"))
    assert result.status == "fail" and "blackhole 10.244.64.0/26" in result.summary and "Calico" in result.summary
    assert result.fix and "calico-node" in result.fix


def test_cilium_routemtu_fails_mtu_from_its_dumps() -> None:
    result = check_mtu(facts("cilium-routemtu"))
    assert result.status == "fail" and "cilium_vxlan" in result.summary

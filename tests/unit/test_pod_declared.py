"""Declared ports and Multus networks, read from Pod objects as the API server returns them."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from kubectl_podnet.cluster.declared import attached_networks, declared_ports
from kubectl_podnet.cluster.pod import inspect_request
from kubectl_podnet.model import AttachedNetwork, DeclaredPort

# The annotation as Multus's quick-start guide shows it (k8snetworkplumbingwg/multus-cni,
# docs/quickstart.md): the default network's entry names no interface.
QUICKSTART_STATUS = """[{
    "name": "cbr0",
    "ips": [
        "10.244.1.73"
    ],
    "default": true,
    "dns": {}
},{
    "name": "macvlan-conf",
    "interface": "net1",
    "ips": [
        "192.168.1.205"
    ],
    "mac": "86:1d:96:ff:55:0d",
    "dns": {}
}]"""


def _pod(containers: list[dict[str, Any]], init: list[dict[str, Any]] | None = None,
         annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "namespace": "shop", "uid": "0a1b2c3d-0000-4000-8000-00000000abcd",
                     "annotations": annotations or {}},
        "spec": {"nodeName": "n1", "containers": containers, "initContainers": init or []},
        "status": {"phase": "Running", "podIP": "10.244.1.5", "containerStatuses": [
            {"name": c["name"], "containerID": "containerd://" + "a" * 64, "state": {"running": {}}}
            for c in containers]},
    }


def test_container_ports_and_probe_ports_are_declared_with_named_ports_resolved() -> None:
    web = {
        "name": "web",
        "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 53, "protocol": "UDP"},
                  {"containerPort": 9000, "protocol": "SCTP"}],
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "livenessProbe": {"tcpSocket": {"port": 8081}},
        "startupProbe": {"grpc": {"port": 9090}},
    }
    proxy = {"name": "proxy", "restartPolicy": "Always", "ports": [{"containerPort": 15001}],
             "readinessProbe": {"exec": {"command": ["true"]}}}
    assert declared_ports(_pod([web], init=[proxy])) == [
        DeclaredPort(15001, "tcp", "proxy", "containerPort"),
        DeclaredPort(8080, "tcp", "web", "containerPort", "http"),
        DeclaredPort(53, "udp", "web", "containerPort"),
        DeclaredPort(8080, "tcp", "web", "readinessProbe", "http"),
        DeclaredPort(8081, "tcp", "web", "livenessProbe"),
        DeclaredPort(9090, "tcp", "web", "startupProbe"),
    ]


def test_probes_that_dial_another_host_or_an_unknown_name_are_not_declared() -> None:
    web = {"name": "web", "livenessProbe": {"httpGet": {"host": "example.internal", "port": 80}},
           "readinessProbe": {"httpGet": {"port": "nope"}}, "startupProbe": {"tcpSocket": {"port": "8443"}}}
    assert declared_ports(_pod([web])) == [DeclaredPort(8443, "tcp", "web", "startupProbe")]


def test_network_status_annotation_becomes_the_attached_networks() -> None:
    pod = _pod([{"name": "web"}], annotations={"k8s.v1.cni.cncf.io/network-status": QUICKSTART_STATUS})
    assert attached_networks(pod) == [
        AttachedNetwork("cbr0", None, ["10.244.1.73"], None, True),
        AttachedNetwork("macvlan-conf", "net1", ["192.168.1.205"], "86:1d:96:ff:55:0d", False),
    ]


def test_the_older_networks_status_annotation_is_read_too_and_garbage_counts_as_none() -> None:
    old = _pod([{"name": "web"}], annotations={"k8s.v1.cni.cncf.io/networks-status": QUICKSTART_STATUS})
    assert [n.interface for n in attached_networks(old)] == [None, "net1"]
    for text in ("not json", json.dumps({"name": "x"}), json.dumps([1, {"interface": "net1"}])):
        assert attached_networks(_pod([{"name": "web"}], annotations={"k8s.v1.cni.cncf.io/network-status": text})) == []
    assert attached_networks(_pod([{"name": "web"}])) == []


def test_the_request_carries_declared_ports_and_networks_to_the_agent() -> None:
    pod = _pod([{"name": "web", "ports": [{"containerPort": 8080}]}],
               annotations={"k8s.v1.cni.cncf.io/network-status": QUICKSTART_STATUS})
    request = inspect_request(pod)
    assert request.declared_ports == [DeclaredPort(8080, "tcp", "web", "containerPort")]
    assert [n.interface for n in request.networks] == [None, "net1"]


def test_the_agent_refuses_a_declared_port_out_of_range_as_usage() -> None:
    import pytest

    from kubectl_podnet.errors import UsageError
    from kubectl_podnet.node.gather import validate

    request = inspect_request(_pod([{"name": "web", "ports": [{"containerPort": 8080}]}]))
    validate(request)
    bad = dataclasses.replace(request, declared_ports=[DeclaredPort(70000, "tcp", "web", "containerPort")])
    with pytest.raises(UsageError, match="declared port 70000 of web is not in 1-65535"):
        validate(bad)

"""The pure parts of the local cluster tool (testbeds.localcluster): no root, no network."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from testbeds.localcluster import config_files, gobuild, hoststate, images, pki


KUBERNETES_GOMOD = """module k8s.io/kubernetes

go 1.24.0

require (
\tk8s.io/api v0.0.0
\tk8s.io/client-go v0.0.0
)

replace (
\tk8s.io/api => ./staging/src/k8s.io/api
\tk8s.io/client-go => ./staging/src/k8s.io/client-go
)
"""


ETCD_SERVER_GOMOD = """module go.etcd.io/etcd/server/v3

go 1.23.0

require (
\tgo.etcd.io/etcd/api/v3 v3.5.21
\tgo.etcd.io/etcd/client/v2 v2.305.21
)

replace (
\tgo.etcd.io/etcd/api/v3 => ../api
\tgo.etcd.io/etcd/client/v2 => ../client/v2
)
"""


MOUNTINFO = """27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
35 30 0:30 / /sys/fs/cgroup rw - tmpfs tmpfs rw
36 35 0:31 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
44 35 0:39 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw
42 27 254:0 /run/netns /run/netns rw,relatime shared:1 - ext4 /dev/vda rw
"""


def test_staging_modules_are_pinned_to_the_matching_v0_release() -> None:
    assert gobuild.staging_replaces(KUBERNETES_GOMOD, "v1.34.4") == [("k8s.io/api", "v0.34.4"), ("k8s.io/client-go", "v0.34.4")]


def test_rendered_gomod_requires_kubernetes_and_replaces_each_staging_module() -> None:
    text = gobuild.render_k8s_gomod("v1.34.4", KUBERNETES_GOMOD)
    assert "require k8s.io/kubernetes v1.34.4" in text
    assert "\tk8s.io/client-go => k8s.io/client-go v0.34.4" in text
    assert "go 1.24.0" in text


def test_a_gomod_without_staging_replaces_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        gobuild.staging_replaces("module x\n", "v1.34.4")


def test_etcd_siblings_take_their_versions_from_the_release_require_list() -> None:
    text = gobuild.render_etcd_gomod("v3.5.21", ETCD_SERVER_GOMOD)
    assert "go.etcd.io/etcd/client/v2 => go.etcd.io/etcd/client/v2 v2.305.21" in text
    assert "go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.5.21" in text


def test_version_ldflags_set_both_version_packages() -> None:
    flags = gobuild.k8s_ldflags("v1.34.4")
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {pkg}.gitVersion=v1.34.4" in flags
        assert f"-X {pkg}.gitMinor=34" in flags


def test_bridge_network_uses_cni0_with_host_local_and_no_masquerade() -> None:
    conf = json.loads(config_files.cni_conflist("bridge"))
    plugin = conf["plugins"][0]
    assert (plugin["type"], plugin["bridge"], plugin["ipMasq"]) == ("bridge", "cni0", False)
    assert plugin["ipam"]["type"] == "host-local"


def test_ptp_network_is_routed_without_a_bridge() -> None:
    plugin = json.loads(config_files.cni_conflist("ptp"))["plugins"][0]
    assert plugin["type"] == "ptp"
    assert "bridge" not in plugin


def test_unknown_network_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        config_files.cni_conflist("flannel")


def test_kubelet_uses_cgroupfs_our_socket_and_no_iptables() -> None:
    cfg = json.loads(config_files.kubelet_config())
    assert cfg["cgroupDriver"] == "cgroupfs"
    assert cfg["containerRuntimeEndpoint"].endswith("/podnet-localcluster/containerd.sock")
    assert not cfg["makeIPTablesUtilChains"]


def test_containerd_config_restricts_oom_scores_and_uses_the_local_pause_image() -> None:
    text = config_files.containerd_config()
    assert "restrict_oom_score_adj = true" in text
    assert 'sandbox_image = "localhost/podnet/pause:3.10"' in text
    assert "SystemdCgroup = false" in text


def test_kubelet_client_cert_is_a_node_identity() -> None:
    spec = next(s for s in pki.cert_specs() if s.name == "kubelet")
    assert (spec.cn, spec.orgs) == ("system:node:podnet-node", ("system:nodes",))


def test_apiserver_serving_cert_covers_loopback_and_first_service_ip() -> None:
    ext = pki.extensions(next(s for s in pki.cert_specs() if s.name == "apiserver"))
    assert "IP:127.0.0.1" in ext
    assert "IP:10.96.0.1" in ext
    assert "extendedKeyUsage=serverAuth\n" in ext


def test_busybox_layer_links_every_applet_to_the_binary() -> None:
    entries = images.busybox_entries(Path("/bin/busybox"), ["sh", "wget", "busybox"])
    links = {name: target for name, _, target, _ in entries if target}
    assert links == {"bin/sh": "busybox", "bin/wget": "busybox"}


def test_cgroup_mounts_lists_v1_and_v2_hierarchies_only() -> None:
    assert hoststate.cgroup_mounts(MOUNTINFO) == ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified"]


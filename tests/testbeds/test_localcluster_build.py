"""The pure parts of the local cluster tool (testbeds.localcluster): no root, no network."""
from __future__ import annotations

import json
import os
import tarfile
import tempfile
import unittest
from pathlib import Path
from typing import Any

from testbeds.common import oci
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


class GoModGeneration(unittest.TestCase):
    def test_staging_modules_are_pinned_to_the_matching_v0_release(self) -> None:
        self.assertEqual(gobuild.staging_replaces(KUBERNETES_GOMOD, "v1.34.4"),
                         [("k8s.io/api", "v0.34.4"), ("k8s.io/client-go", "v0.34.4")])

    def test_rendered_gomod_requires_kubernetes_and_replaces_each_staging_module(self) -> None:
        text = gobuild.render_k8s_gomod("v1.34.4", KUBERNETES_GOMOD)
        self.assertIn("require k8s.io/kubernetes v1.34.4", text)
        self.assertIn("\tk8s.io/client-go => k8s.io/client-go v0.34.4", text)
        self.assertIn("go 1.24.0", text)

    def test_a_gomod_without_staging_replaces_is_an_error(self) -> None:
        with self.assertRaises(RuntimeError):
            gobuild.staging_replaces("module x\n", "v1.34.4")

    def test_etcd_siblings_take_their_versions_from_the_release_require_list(self) -> None:
        text = gobuild.render_etcd_gomod("v3.5.21", ETCD_SERVER_GOMOD)
        self.assertIn("go.etcd.io/etcd/client/v2 => go.etcd.io/etcd/client/v2 v2.305.21", text)
        self.assertIn("go.etcd.io/etcd/api/v3 => go.etcd.io/etcd/api/v3 v3.5.21", text)

    def test_version_ldflags_set_both_version_packages(self) -> None:
        flags = gobuild.k8s_ldflags("v1.34.4")
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            self.assertIn(f"-X {pkg}.gitVersion=v1.34.4", flags)
            self.assertIn(f"-X {pkg}.gitMinor=34", flags)


class ConfigFiles(unittest.TestCase):
    def test_bridge_network_uses_cni0_with_host_local_and_no_masquerade(self) -> None:
        conf = json.loads(config_files.cni_conflist("bridge"))
        plugin = conf["plugins"][0]
        self.assertEqual((plugin["type"], plugin["bridge"], plugin["ipMasq"]), ("bridge", "cni0", False))
        self.assertEqual(plugin["ipam"]["type"], "host-local")

    def test_ptp_network_is_routed_without_a_bridge(self) -> None:
        plugin = json.loads(config_files.cni_conflist("ptp"))["plugins"][0]
        self.assertEqual(plugin["type"], "ptp")
        self.assertNotIn("bridge", plugin)

    def test_unknown_network_mode_is_refused(self) -> None:
        with self.assertRaises(ValueError):
            config_files.cni_conflist("flannel")

    def test_kubelet_uses_cgroupfs_our_socket_and_no_iptables(self) -> None:
        cfg = json.loads(config_files.kubelet_config())
        self.assertEqual(cfg["cgroupDriver"], "cgroupfs")
        self.assertTrue(cfg["containerRuntimeEndpoint"].endswith("/podnet-localcluster/containerd.sock"))
        self.assertFalse(cfg["makeIPTablesUtilChains"])

    def test_containerd_config_restricts_oom_scores_and_uses_the_local_pause_image(self) -> None:
        text = config_files.containerd_config()
        self.assertIn("restrict_oom_score_adj = true", text)
        self.assertIn('sandbox_image = "localhost/podnet/pause:3.10"', text)
        self.assertIn("SystemdCgroup = false", text)


class Certificates(unittest.TestCase):
    def test_kubelet_client_cert_is_a_node_identity(self) -> None:
        spec = next(s for s in pki.cert_specs() if s.name == "kubelet")
        self.assertEqual((spec.cn, spec.orgs), ("system:node:podnet-node", ("system:nodes",)))

    def test_apiserver_serving_cert_covers_loopback_and_first_service_ip(self) -> None:
        ext = pki.extensions(next(s for s in pki.cert_specs() if s.name == "apiserver"))
        self.assertIn("IP:127.0.0.1", ext)
        self.assertIn("IP:10.96.0.1", ext)
        self.assertIn("extendedKeyUsage=serverAuth\n", ext)


def _json_member(tar: tarfile.TarFile, name: str) -> Any:
    f = tar.extractfile(name)
    assert f is not None, f"{name} is not a regular file in the archive"
    return json.load(f)


class OciLayout(unittest.TestCase):
    def test_archive_names_the_image_for_ctr_import(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            src = Path(d, "hello")
            src.write_text("hi\n")
            layer = oci.tar_from_files(Path(d, "layer.tar"), [("hello", src, None, 0o644), ("etc", None, None, 0o755)])
            out = oci.build_archive(oci.ImageSpec(name="localhost/podnet/test:1", layers=(layer,), cmd=("sh",)),
                                    Path(d, "img.tar"))
            with tarfile.open(out) as tar:
                index = _json_member(tar, "index.json")
                ann = index["manifests"][0]["annotations"]
                self.assertEqual(ann["io.containerd.image.name"], "localhost/podnet/test:1")
                manifest = _json_member(tar, "blobs/sha256/" + index["manifests"][0]["digest"][7:])
                config = _json_member(tar, "blobs/sha256/" + manifest["config"]["digest"][7:])
                self.assertEqual(config["rootfs"]["diff_ids"], [manifest["layers"][0]["digest"]])
                self.assertIn("blobs/sha256/" + manifest["layers"][0]["digest"][7:], tar.getnames())

    def test_the_same_inputs_give_the_same_archive_bytes(self) -> None:
        with tempfile.TemporaryDirectory() as d:
            src = Path(d, "hello")
            src.write_text("hi\n")
            outs = []
            for n in (1, 2):
                layer = oci.tar_from_files(Path(d, f"layer{n}.tar"), [("hello", src, None, 0o644)])
                os.utime(layer, (n * 1000, n * 1000))  # different file times must not matter
                outs.append(oci.build_archive(oci.ImageSpec(name="localhost/podnet/test:1", layers=(layer,)),
                                              Path(d, f"img{n}.tar")).read_bytes())
            self.assertEqual(outs[0], outs[1])

    def test_the_platform_is_the_machines(self) -> None:
        self.assertEqual(oci.go_arch("x86_64"), "amd64")
        self.assertEqual(oci.go_arch("aarch64"), "arm64")
        self.assertEqual(oci.image_config(oci.ImageSpec(name="x:1", layers=()), [])["architecture"], oci.go_arch())

    def test_busybox_layer_links_every_applet_to_the_binary(self) -> None:
        entries = images.busybox_entries(Path("/bin/busybox"), ["sh", "wget", "busybox"])
        links = {name: target for name, _, target, _ in entries if target}
        self.assertEqual(links, {"bin/sh": "busybox", "bin/wget": "busybox"})


class HostState(unittest.TestCase):
    def test_cgroup_mounts_lists_v1_and_v2_hierarchies_only(self) -> None:
        self.assertEqual(hoststate.cgroup_mounts(MOUNTINFO), ["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/unified"])


if __name__ == "__main__":
    unittest.main()

"""The pure parts of the kind cluster tool (testbeds.kindcluster): no root, no network, no docker."""
from __future__ import annotations

import json
from typing import Any

import pytest

from testbeds.kindcluster import components, flannel, hostguard, k8simages, lifecycle, nodeimage, runc_wrapper
from testbeds.kindcluster import kind_settings as K


# `kubeadm config images list --kubernetes-version v1.34.4`, with the registry host replaced


KUBEADM_LIST = """example.invalid/kube-apiserver:v1.34.4
example.invalid/kube-controller-manager:v1.34.4
example.invalid/kube-scheduler:v1.34.4
example.invalid/kube-proxy:v1.34.4
example.invalid/coredns/coredns:v1.12.1
example.invalid/pause:3.10.1
example.invalid/etcd:3.6.5-0
"""


# kind's images/base/files/etc/containerd/config.toml (v0.33.0), the lines that matter


KIND_CONTAINERD = """version = 2
[plugins."io.containerd.grpc.v1.cri"]
  # use fixed sandbox image
  sandbox_image = "example.invalid/pause:3.10"
  restrict_oom_score_adj = false
"""


FLANNEL_MAIN = """import (
\t_ "github.com/flannel-io/flannel/pkg/backend/alloc"
\t_ "github.com/flannel-io/flannel/pkg/backend/tencentvpc"
\t_ "github.com/flannel-io/flannel/pkg/backend/udp"
\t_ "github.com/flannel-io/flannel/pkg/backend/vxlan"
)
"""


def test_each_component_is_named_with_its_full_reference() -> None:
    refs = k8simages.parse_image_list(KUBEADM_LIST)
    assert refs["coredns"] == "example.invalid/coredns/coredns:v1.12.1"
    assert refs["etcd"] == "example.invalid/etcd:3.6.5-0"
    assert len(refs) == 7


def test_a_list_missing_a_component_is_refused() -> None:
    with pytest.raises(ValueError):
        k8simages.parse_image_list(KUBEADM_LIST.replace("example.invalid/etcd:3.6.5-0\n", ""))


def test_image_tags_map_to_go_module_versions() -> None:
    assert k8simages.go_version_of("x/etcd:3.6.5-0") == "v3.6.5"
    assert k8simages.go_version_of("x/coredns/coredns:v1.12.1") == "v1.12.1"


def test_the_sandbox_image_becomes_the_one_kubeadm_names() -> None:
    out = nodeimage.patch_containerd_config(KIND_CONTAINERD, "example.invalid/pause:3.10.1")
    assert '  sandbox_image = "example.invalid/pause:3.10.1"' in out
    assert "pause:3.10\"" not in out


def test_a_config_without_sandbox_image_is_refused() -> None:
    with pytest.raises(ValueError):
        nodeimage.patch_containerd_config("version = 2\n", "x/pause:1")


def test_cri_base_spec_gets_kinds_hook_and_loses_rlimits() -> None:
    spec = {"process": {"rlimits": [{"type": "RLIMIT_NOFILE"}], "args": ["sh"]}}
    out = nodeimage.cri_base_spec(spec)
    assert "rlimits" not in out["process"]
    assert out["hooks"]["createContainer"] == [{"path": "/kind/bin/mount-product-files.sh"}]
    assert "rlimits" in spec["process"]  # the input is not changed


def test_image_config_runs_our_prep_before_kinds_entrypoint() -> None:
    cfg = nodeimage.image_config("sha256:" + "0" * 64)
    assert cfg["config"]["Entrypoint"][1:] == ["/usr/local/bin/entrypoint", "/sbin/init"]
    assert cfg["config"]["StopSignal"] == "SIGRTMIN+3"


def test_dropped_backends_are_removed_and_the_rest_kept() -> None:
    out = components.flanneld_main(FLANNEL_MAIN)
    assert "tencentvpc" not in out
    assert "backend/udp" not in out
    assert "backend/vxlan" in out


def test_a_main_go_that_changed_shape_is_refused() -> None:
    with pytest.raises(RuntimeError):
        components.flanneld_main(FLANNEL_MAIN.replace("udp", "other"))


def test_vxlan_over_the_pod_subnet_with_a_bridge_delegate() -> None:
    items = json.loads(flannel.manifest(image="img:1", pod_subnet="10.244.0.0/16"))["items"]
    cm = next(i for i in items if i["kind"] == "ConfigMap")
    assert json.loads(cm["data"]["net-conf.json"])["Backend"] == {"Type": "vxlan"}
    assert json.loads(cm["data"]["cni-conf.json"])["plugins"][0]["type"] == "flannel"
    ds = next(i for i in items if i["kind"] == "DaemonSet")
    pod = ds["spec"]["template"]["spec"]
    images = {c["image"] for c in pod["containers"] + pod["initContainers"]}
    assert images == {"img:1"}
    assert all(c["imagePullPolicy"] == "IfNotPresent" for c in pod["containers"] + pod["initContainers"])


def test_this_machines_bounding_set_lacks_only_sys_resource() -> None:
    assert runc_wrapper.missing_capabilities("000001fffeffffff") == {"CAP_SYS_RESOURCE"}
    assert runc_wrapper.missing_capabilities("000001ffffffffff") == set()


def test_missing_capabilities_leave_every_set_and_a_negative_oom_score_goes() -> None:
    process: dict[str, Any] = {"capabilities": {k: ["CAP_SYS_ADMIN", "CAP_SYS_RESOURCE"] for k in ("bounding", "effective")},
                               "oomScoreAdj": -999}
    assert runc_wrapper.strip_process(process, {"CAP_SYS_RESOURCE"})
    assert process["capabilities"]["bounding"] == ["CAP_SYS_ADMIN"]
    assert "oomScoreAdj" not in process


def test_nothing_to_strip_changes_nothing() -> None:
    process = {"capabilities": {"bounding": ["CAP_CHOWN"]}, "oomScoreAdj": 0}
    assert not runc_wrapper.strip_process(process, {"CAP_SYS_RESOURCE"})
    assert process["oomScoreAdj"] == 0


def test_options_are_found_in_both_spellings() -> None:
    argv = ["--root", "/r", "create", "--bundle=/b", "id"]
    assert runc_wrapper.option_value(argv, "--bundle", "-b") == "/b"
    assert runc_wrapper.option_value(["exec", "-p", "/p.json", "id"], "--process", "-p") == "/p.json"


def test_every_node_of_kind_yaml_uses_the_image_we_build() -> None:
    images = [line.split("image:", 1)[1].strip() for line in K.KIND_CONFIG.read_text().splitlines()
              if line.strip().startswith("image:")]
    assert images == [K.NODE_IMAGE] * 3
    assert "disableDefaultCNI: true" in K.KIND_CONFIG.read_text()


# /proc/<pid>/cgroup of a kind node's pod process, read from the host (cgroup v1 hybrid)


NODE_POD = ("12:pids:/podnet-kind/3f2a/kubelet.slice/kubelet-kubepods.slice/cri-containerd-ab.scope\n"
            "1:name=systemd:/podnet-kind/3f2a/kubelet.slice\n0::/\n")


def test_processes_under_our_cgroup_parent_are_ours() -> None:
    assert lifecycle.in_our_cgroup(NODE_POD)
    assert not lifecycle.in_our_cgroup("12:pids:/podnet-kinder/x\n0::/user.slice\n")
    assert not lifecycle.in_our_cgroup("12:pids:/kubepods/pod1/ab\n")


def test_only_changed_sysctls_are_written_back() -> None:
    before = {"vm/overcommit_memory": "0\n", "kernel/panic": "0\n"}
    now = {"vm/overcommit_memory": "1\n", "kernel/panic": "0\n"}
    assert hostguard.changed(before, now) == {"vm/overcommit_memory": "0\n"}


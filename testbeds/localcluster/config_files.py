"""Pure builders for the config files the daemons read (containerd, CNI, kubelet).

Kept apart from the code that starts processes so each text can be read and
tested on its own.
"""
from __future__ import annotations

import json

from testbeds.localcluster import settings as S


def containerd_socket() -> str:
    return str(S.RUN_ROOT / "containerd.sock")


def containerd_config() -> str:
    """Our own containerd: own root, state, socket; the system's config is never touched."""
    cri = 'plugins."io.containerd.grpc.v1.cri"'
    return f"""version = 2
root = "{S.STATE_ROOT}/containerd"
state = "{S.RUN_ROOT}/containerd"

[grpc]
  address = "{containerd_socket()}"

[ttrpc]
  address = "{containerd_socket()}.ttrpc"

[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "{S.STATE_ROOT}/containerd-opt"

[{cri}]
  sandbox_image = "{S.PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  # This machine withholds CAP_SYS_RESOURCE even from root: lowering a process's
  # oom_score_adj (pause gets -998) fails in runc init with "can't get final
  # child's PID from pipe".  Clamp every score to containerd's own instead.
  restrict_oom_score_adj = true
  enable_selinux = false

[{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[{cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false
  Root = "{S.RUN_ROOT}/runc"

[{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{cni_conf_dir()}"
  max_conf_num = 1
"""


def cni_conf_dir() -> str:
    return str(S.STATE_ROOT / "cni" / "net.d")


def _ipam(gateway: bool) -> dict[str, object]:
    rng: dict[str, str] = {"subnet": S.POD_CIDR}
    if gateway:
        rng["gateway"] = S.POD_GATEWAY
    return {
        "type": "host-local",
        "ranges": [[rng]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": str(S.STATE_ROOT / "cni" / "networks"),
    }


def cni_conflist(mode: str) -> str:
    """bridge: cni0 + veth per pod (the classic topology); ptp: routed veths, like kind's kindnet.

    ipMasq stays off: pods talk only inside the node, and no iptables rule is added.
    """
    if mode == "bridge":
        plugin = {"type": "bridge", "bridge": S.CNI_BRIDGE, "isGateway": True, "ipMasq": False,
                  "hairpinMode": True, "ipam": _ipam(gateway=True)}
    elif mode == "ptp":
        plugin = {"type": "ptp", "ipMasq": False, "mtu": 1500, "ipam": _ipam(gateway=False)}
    else:
        raise ValueError(f"unknown network mode {mode!r} (bridge or ptp)")
    return json.dumps({"cniVersion": "0.4.0", "name": f"podnet-{mode}", "plugins": [plugin]}, indent=2) + "\n"


def kubelet_config() -> str:
    pki = S.pki_dir()
    cfg = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": S.NODE_IP,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": 10248,
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(pki / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "tlsCertFile": str(pki / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(pki / "kubelet-serving.key"),
        "containerRuntimeEndpoint": "unix://" + containerd_socket(),
        # No systemd on this machine; runc (SystemdCgroup = false) agrees.
        "cgroupDriver": "cgroupfs",
        "failSwapOn": False,
        # A small or busy disk must not taint the node.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%",
                         "nodefs.inodesFree": "1%", "imagefs.available": "1%"},
        # containerd 1.6 does not pin the sandbox image, and nothing can be pulled back.
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        # No iptables chains: nothing left behind, and no kube-proxy to serve.
        "makeIPTablesUtilChains": False,
        "podLogsDir": str(S.STATE_ROOT / "pod-logs"),
        "rotateCertificates": False,
        "serializeImagePulls": False,
        "clusterDomain": "cluster.local",
        "resolvConf": "/etc/resolv.conf",
        "staticPodPath": "",
        "failCgroupV1": False,
    }
    return json.dumps(cfg, indent=2) + "\n"


"""The Go binaries the kind node image needs beyond the local cluster's, built from Go modules.

The local cluster builds kube-apiserver, -controller-manager, -scheduler, kubelet, kubectl
and crictl (testbeds/localcluster/gobuild.py, cached per release); kind also needs kubeadm and
kube-proxy of that release, etcd and CoreDNS at the versions kubeadm names, flanneld and
flannel's CNI plugin.  Same Go, same module and build caches, same generated-go.mod
approach; the results go to /var/cache/podnet-kind/<release>/bin.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import TextIO

from testbeds.kindcluster import kind_settings as K
from testbeds.localcluster import gobuild
from testbeds.localcluster import settings as LC

KIND_K8S_COMMANDS = ("kubeadm", "kube-proxy")

K8S_TOOLS_GO = """//go:build tools

// Keeps the commands' packages (and so their modules) in go.mod through go mod tidy.
package tools

import (
\t_ "k8s.io/kubernetes/cmd/kubeadm/app"
\t_ "k8s.io/kubernetes/cmd/kube-proxy/app"
)
"""


def bin_dir() -> Path:
    return K.cache_dir() / "bin"


def log_path() -> Path:
    return K.cache_dir() / "logs" / "gobuild.log"


def _nice(argv: list[str]) -> list[str]:
    return gobuild.nice(argv, 15)  # below the local cluster's builds: they come first


def build_k8s_extra(log: TextIO) -> None:
    missing = [c for c in KIND_K8S_COMMANDS if not (bin_dir() / c).exists()]
    if not missing:
        return
    src = gobuild.module_dir("src-k8s", "k8s.io/kubernetes", K.K8S_VERSION, gobuild.render_k8s_gomod,
                              K8S_TOOLS_GO, bin_dir(), log, root=K.cache_dir())
    ldflags = gobuild.k8s_ldflags(K.K8S_VERSION)
    for cmd in missing:
        tmp = bin_dir() / f".{cmd}.tmp"
        gobuild.run(_nice([LC.GO, "build", "-trimpath", "-ldflags", ldflags, "-o", str(tmp),
                    f"k8s.io/kubernetes/cmd/{cmd}"]), src, log)
        tmp.rename(bin_dir() / cmd)


def etcd_binary(version: str) -> Path:
    return bin_dir() / f"etcd-{version}"


def build_etcd(version: str, log: TextIO) -> Path:
    out = etcd_binary(version)
    if out.exists():
        return out
    src = gobuild.module_dir(f"src-etcd-{version}", "go.etcd.io/etcd/server/v3", version, gobuild.render_etcd_gomod,
                              gobuild.ETCD_TOOLS_GO, bin_dir(), log, root=K.cache_dir())
    tmp = out.with_name(f".{out.name}.tmp")
    gobuild.run(_nice([LC.GO, "build", "-trimpath", "-ldflags", "-s -w", "-o", str(tmp),
                "go.etcd.io/etcd/server/v3"]), src, log)
    tmp.rename(out)
    return out


def go_install(package: str, version: str, out: Path, log: TextIO) -> Path:
    """`go install package@version` into a directory of its own, then renamed to `out`."""
    if out.exists():
        return out
    gobin = bin_dir() / f".gobin-{out.name}"
    gobin.mkdir(parents=True, exist_ok=True)
    env = dict(gobuild.go_env(), GOBIN=str(gobin), GOFLAGS="-mod=mod")
    gobuild.run(_nice([LC.GO, "install", "-trimpath", "-ldflags", "-s -w", f"{package}@{version}"]), gobin, log, env)
    built = gobin / package.rstrip("/").rsplit("/", 1)[1]
    built.rename(out)
    gobin.rmdir()
    return out


def coredns_binary(version: str) -> Path:
    return bin_dir() / f"coredns-{version}"


def build_coredns(version: str, log: TextIO) -> Path:
    return go_install("github.com/coredns/coredns", version, coredns_binary(version), log)


def flanneld_binary() -> Path:
    return bin_dir() / f"flanneld-{K.FLANNEL_VERSION}"


def flannel_cni_binary() -> Path:
    return bin_dir() / f"flannel-cni-{K.FLANNEL_CNI_VERSION}"


# Backends left out of flanneld: Tencent Cloud VPC (its SDK is refused by the Go module proxy,
# "not available") and udp (cgo, and a binary linked against the build host's glibc would not
# run on the image's). The cluster uses vxlan.
DROPPED_BACKENDS = ("tencentvpc", "udp")


def flanneld_main(main_go: str) -> str:
    """Pure: flannel's main.go without the DROPPED_BACKENDS imports."""
    lines = main_go.splitlines()
    dropped = {f'_ "github.com/flannel-io/flannel/pkg/backend/{b}"' for b in DROPPED_BACKENDS}
    kept = [line for line in lines if line.strip() not in dropped]
    if len(kept) != len(lines) - len(dropped):
        raise RuntimeError(f"flannel's main.go no longer imports the backends {DROPPED_BACKENDS} as expected")
    return "\n".join(kept) + "\n"


def build_flanneld(log: TextIO) -> Path:
    out = flanneld_binary()
    if out.exists():
        return out
    src = K.cache_dir() / f"src-flannel-{K.FLANNEL_VERSION}"
    src.mkdir(parents=True, exist_ok=True)
    gomod = gobuild.module_gomod("github.com/flannel-io/flannel", K.FLANNEL_VERSION, src)
    info = json.loads(subprocess.run([LC.GO, "mod", "download", "-json",
                                      f"github.com/flannel-io/flannel@{K.FLANNEL_VERSION}"], cwd=src,
                                     env=gobuild.go_env(), check=True, capture_output=True, text=True).stdout)
    main_go = (Path(info["Dir"]) / "main.go").read_text()
    (src / "main.go").write_text(flanneld_main(main_go))
    (src / "go.mod").write_text(
        "// Generated by testbeds/kindcluster/components.py; do not edit.\n"
        "module podnet.local/kindcluster/flanneld\n\n"
        f"go {gobuild.go_directive(gomod.read_text())}\n\n"
        f"require github.com/flannel-io/flannel {K.FLANNEL_VERSION}\n")
    gobuild.run([LC.GO, "mod", "tidy"], src, log)
    tmp = out.with_name(f".{out.name}.tmp")
    version_flag = f"-X github.com/flannel-io/flannel/pkg/version.Version={K.FLANNEL_VERSION}"
    gobuild.run(_nice([LC.GO, "build", "-trimpath", "-ldflags", f"-s -w {version_flag}", "-o", str(tmp), "."]), src, log)
    tmp.rename(out)
    return out


def build_flannel(log: TextIO) -> None:
    build_flanneld(log)
    # flannel's CNI plugin: delegates to bridge + host-local with the subnet flanneld
    # writes to /run/flannel/subnet.env (the plugin later moved to a module not on the proxy)
    go_install("github.com/containernetworking/plugins/plugins/meta/flannel", K.FLANNEL_CNI_VERSION,
               flannel_cni_binary(), log)


def open_log() -> TextIO:
    log_path().parent.mkdir(parents=True, exist_ok=True)
    bin_dir().mkdir(parents=True, exist_ok=True)
    return open(log_path(), "a")


if __name__ == "__main__":  # prebuild what does not depend on kubeadm's image list
    import sys
    with open_log() as log:
        for what in sys.argv[1:]:
            if what == "flannel":
                build_flannel(log)
            elif what.startswith("etcd="):
                build_etcd(what.split("=", 1)[1], log)
            elif what.startswith("coredns="):
                build_coredns(what.split("=", 1)[1], log)
            elif what == "k8s":
                build_k8s_extra(log)
    os.system(f"ls -la {bin_dir()}")

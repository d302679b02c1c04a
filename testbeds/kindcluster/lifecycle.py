"""up / down / status of the three-node kind cluster.

up: apt packages -> Go binaries (the local cluster's, then kind's extra) -> images ->
node image -> our containerd + dockerd in our netns -> `kind create cluster` from kind.yaml
-> images loaded into the nodes -> flannel -> all nodes Ready -> a smoke pod on a worker
answers `kubectl exec`.  Each step checks before it acts, so `up` is
idempotent, and a cluster whose nodes died with a killed dockerd is started again (or,
if it does not come back, made anew).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict, Unpack

from testbeds.common import apt, cgroups, mounts, smoke
from testbeds.common.failure import Failure
from testbeds.common.pidfiles import rss_kib
from testbeds.kindcluster import components, daemons, flannel, hostguard, k8simages, nodeimage
from testbeds.kindcluster import kind_settings as K
from testbeds.localcluster import cluster as LCC  # the local cluster's Go build and images
from testbeds.localcluster import gobuild
from testbeds.localcluster import hoststate as LCH
from testbeds.localcluster import images as LCI
from testbeds.localcluster import procs as LCP
from testbeds.localcluster import settings as LC

BASE_PACKAGES = ("mmdebstrap", "busybox-static", "gcc", "libc6-dev", "iproute2", "util-linux", "iptables")
SMOKE_NAMESPACE = "kindcluster-smoke"


def say(msg: str) -> None:
    print(f"[kindcluster {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def env() -> dict[str, str]:
    """What a client needs: our tools first on PATH, the kubeconfig, our docker socket."""
    return dict(os.environ, PATH=f"{K.tools_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
                KUBECONFIG=str(K.kubeconfig_path()), DOCKER_HOST=K.DOCKER_HOST)


class RunOptions(TypedDict, total=False):
    """run()'s keywords, as kubectl() and kind() pass them on."""
    check: bool
    timeout: float
    input: str | None
    capture: bool


def run(argv: list[str], check: bool = True, timeout: float = 600, input: str | None = None,
        capture: bool = True) -> subprocess.CompletedProcess[str]:
    """argv inside our network namespace (where kind published the API server's port)."""
    cp = subprocess.run(daemons.in_netns(argv), env=env(), capture_output=capture, text=True, timeout=timeout,
                        input=input)
    if check and cp.returncode != 0:
        raise Failure(argv[0].rsplit("/", 1)[-1], f"{' '.join(argv[1:6])} failed: "
                      f"{(cp.stderr or '').strip()[-1500:] or (cp.stdout or '').strip()[-800:]}")
    return cp


def kubectl(*args: str, **kw: Unpack[RunOptions]) -> subprocess.CompletedProcess[str]:
    return run(["kubectl", *args], **kw)


def kind(*args: str, **kw: Unpack[RunOptions]) -> subprocess.CompletedProcess[str]:
    return run(["kind", *args], **kw)


# ------------------------------------------------------------------ build steps

def ensure_packages() -> None:
    wanted = list(BASE_PACKAGES)
    if not shutil.which("dockerd"):
        wanted.append("docker.io")  # brings containerd and runc; GitHub runners have Docker's own
    apt.install(wanted, say)


def ensure_tools() -> None:
    """kind from Go modules, and links to the docker client and kubectl the tool uses."""
    d = K.tools_dir()
    d.mkdir(parents=True, exist_ok=True)
    if not (d / "kind").exists():
        say(f"building kind {K.KIND_VERSION} from Go modules")
        e = dict(gobuild.go_env(), GOBIN=str(d))
        cp = subprocess.run(["nice", "-n", "10", LC.GO, "install", "-trimpath", "-ldflags", "-s -w",
                             f"sigs.k8s.io/kind@{K.KIND_VERSION}"], env=e, cwd=d, capture_output=True, text=True)
        if cp.returncode != 0:
            raise Failure("kind build", cp.stderr[-1500:])
    for name, target in (("docker", daemons.docker_cli()), ("kubectl", str(LC.bin_dir() / "kubectl"))):
        link = d / name
        if not link.is_symlink() or os.readlink(link) != target:
            link.unlink(missing_ok=True)
            link.symlink_to(target)


def ensure_node_image() -> Path:
    if nodeimage.archive_path().exists():
        return nodeimage.archive_path()
    say("building the kind node image (cold: Go builds of kubeadm, kube-proxy, etcd, CoreDNS, flanneld; "
        "two mmdebstrap root filesystems)")
    t0 = time.monotonic()
    try:
        with components.open_log() as log:
            components.build_k8s_extra(log)
            path = nodeimage.build(log, say)
    except (RuntimeError, subprocess.CalledProcessError) as e:
        raise Failure("node image", f"{e}\n--- last lines of {components.log_path()} ---\n"
                      + "\n".join(components.log_path().read_text(errors="replace").splitlines()[-20:])) from e
    say(f"node image ready in {time.monotonic() - t0:.0f}s")
    return path


def ensure_image_loaded_in_docker() -> None:
    if daemons.docker("image", "inspect", K.NODE_IMAGE, check=False).returncode == 0:
        return
    say(f"loading {K.NODE_IMAGE} into our dockerd")
    t0 = time.monotonic()
    daemons.docker("load", "-i", str(nodeimage.archive_path()), timeout=900)
    say(f"loaded in {time.monotonic() - t0:.0f}s")


# ------------------------------------------------------------------ the cluster

def node_containers() -> dict[str, bool]:
    """{node container name: running} for our cluster."""
    cp = daemons.docker("ps", "-a", "--filter", f"label=io.x-k8s.kind.cluster={K.CLUSTER_NAME}",
                        "--format", "{{.Names}} {{.State}}", check=False)
    out = {}
    for line in cp.stdout.decode().splitlines():
        name, state = line.split()
        out[name] = state == "running"
    return out


def api_ready() -> bool:
    try:
        return kubectl("get", "--raw", "/readyz", check=False, timeout=15).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def wait_until(what: str, probe: Callable[[], bool], timeout: float, interval: float = 1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(interval)
    return False


def ensure_cluster() -> None:
    nodes = node_containers()
    if nodes and not all(nodes.values()):
        stopped = sorted(n for n, up in nodes.items() if not up)
        say(f"starting stopped node containers: {', '.join(stopped)}")
        daemons.docker("start", *stopped, check=False)
    if nodes:
        if wait_until("API server", api_ready, 120):
            say(f"kind cluster {K.CLUSTER_NAME} exists and answers")
            kind("export", "kubeconfig", "--name", K.CLUSTER_NAME, "--kubeconfig", str(K.kubeconfig_path()))
            return
        say(f"kind cluster {K.CLUSTER_NAME} does not answer: deleting it and creating it anew")
        kind("delete", "cluster", "--name", K.CLUSTER_NAME, check=False)
    hostguard.record_once()
    say(f"kind create cluster --name {K.CLUSTER_NAME} --config {K.KIND_CONFIG}")
    t0 = time.monotonic()
    K.kubeconfig_path().parent.mkdir(parents=True, exist_ok=True)
    kind("create", "cluster", "--name", K.CLUSTER_NAME, "--config", str(K.KIND_CONFIG),
         "--kubeconfig", str(K.kubeconfig_path()), timeout=900)
    say(f"kind create cluster took {time.monotonic() - t0:.0f}s")


def images_in_node(node: str) -> set[str]:
    cp = daemons.docker("exec", node, "ctr", "--namespace", "k8s.io", "images", "ls", "-q", check=False)
    return set(cp.stdout.decode().split())


def ensure_images_loaded(archives: dict[str, Path]) -> None:
    nodes = sorted(node_containers())
    for ref, archive in archives.items():
        missing = [n for n in nodes if ref not in images_in_node(n)]
        if missing:
            say(f"kind load image-archive {archive.name} -> {', '.join(missing)}")
            kind("load", "image-archive", str(archive), "--name", K.CLUSTER_NAME, "--nodes", ",".join(missing))


def ensure_flannel() -> None:
    kubectl("apply", "-f", "-", input=flannel.manifest())
    cp = kubectl("rollout", "status", "-n", flannel.NAMESPACE, "daemonset/kube-flannel-ds", "--timeout=180s",
                 check=False, timeout=200)
    if cp.returncode != 0:
        pods = kubectl("get", "pods", "-n", flannel.NAMESPACE, "-o", "wide", check=False).stdout
        raise Failure("flannel", f"DaemonSet not ready: {cp.stderr.strip()}\n{pods}")


def wait_nodes_ready() -> list[str]:
    cp = kubectl("wait", "--for=condition=Ready", "node", "--all", "--timeout=180s", check=False, timeout=200)
    if cp.returncode != 0:
        raise Failure("nodes", f"not all Ready: {cp.stderr.strip()}\n"
                      + kubectl("get", "nodes", "-o", "wide", check=False).stdout)
    nodes = json.loads(kubectl("get", "nodes", "-o", "json").stdout)["items"]
    return [n["metadata"]["name"] for n in nodes]


def smoke_test(node: str) -> None:
    smoke.check(kubectl, SMOKE_NAMESPACE, LC.BUSYBOX_IMAGE, "IfNotPresent", blame="smoke", say=say, node=node)


def build() -> dict[str, Path]:
    """Everything `up` needs that is built, not run: packages, binaries, images (cached).
    Returns the archives of the images loaded into the nodes after they start."""
    if os.geteuid() != 0:
        raise Failure("preflight", "must run as root")
    ensure_packages()
    LCC.ensure_binaries()
    ensure_tools()
    ensure_node_image()
    built = LCC.ensure_images()
    workload = {ref: p for ref, p in zip(LCI.BUILDERS, built) if ref != LC.PAUSE_IMAGE}
    return {K.FLANNEL_IMAGE: k8simages.archive_path(K.FLANNEL_IMAGE), **workload}


def up(smoke: bool = True) -> None:
    t0 = time.monotonic()
    archives = build()
    daemons.ensure_daemons(say)
    ensure_image_loaded_in_docker()
    ensure_cluster()
    ensure_images_loaded(archives)
    ensure_flannel()
    nodes = wait_nodes_ready()
    say(f"nodes Ready: {', '.join(nodes)}")
    if smoke:
        workers = [n for n in nodes if "control-plane" not in n]
        smoke_test(workers[0] if workers else nodes[0])
    say(f"cluster up in {time.monotonic() - t0:.0f}s; clients: "
        "python3 -m testbeds.kindcluster run -- kubectl get nodes")


# ------------------------------------------------------------------ what is ours

def _netns_inode() -> int | None:
    try:
        return os.stat(K.NETNS).st_ino if daemons.netns_ready() else None
    except OSError:
        return None


def in_our_cgroup(cgroup_text: str) -> bool:
    """Pure: a /proc/<pid>/cgroup (read from the host's cgroup namespace) under /podnet-kind."""
    top = "/" + K.CGROUP_PARENT
    for line in cgroup_text.splitlines():
        path = line.split(":", 2)[-1]
        if path == top or path.startswith(top + "/"):
            return True
    return False


def our_pids() -> list[int]:
    """Every process in our netns (containerd, dockerd, shims) or under our cgroup (the nodes and their pods)."""
    ino = _netns_inode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if ino is not None and os.stat(f"/proc/{entry}/ns/net").st_ino == ino:
                found.append(int(entry))
                continue
            if in_our_cgroup(Path(f"/proc/{entry}/cgroup").read_text()):
                found.append(int(entry))
        except OSError:
            continue
    return found


def cgroup_memory() -> dict[str, int]:
    """total_rss / total_cache of our cgroup (v1 memory controller), or {} where there is none."""
    path = Path("/sys/fs/cgroup/memory") / K.CGROUP_PARENT / "memory.stat"
    try:
        fields = dict(line.split() for line in path.read_text().splitlines())
    except (OSError, ValueError):
        return {}
    return {"rss": int(fields.get("total_rss", 0)), "cache": int(fields.get("total_cache", 0))}


def our_cgroup_dirs() -> list[Path]:
    root = Path("/sys/fs/cgroup")
    found = []
    for d in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        if (d / K.CGROUP_PARENT).is_dir():
            found.append(d / K.CGROUP_PARENT)
    return found


def _local_cluster_kubelet_runs() -> bool:
    return LCP.tracked.running("kubelet") is not None


def down() -> None:
    if not K.STATE_ROOT.exists() and not K.RUN_ROOT.exists():
        say("nothing to do: no kind cluster state on this machine")
        return
    problems: list[str] = []
    if daemons.netns_ready() and (K.STATE_ROOT / "docker").is_dir():
        try:
            daemons.ensure_daemons(say)  # a killed dockerd comes back, so kind can delete its nodes
            if node_containers():
                kind("delete", "cluster", "--name", K.CLUSTER_NAME, "--kubeconfig", str(K.kubeconfig_path()),
                     check=False, timeout=300)
                say(f"deleted kind cluster {K.CLUSTER_NAME}")
        except (Failure, subprocess.TimeoutExpired) as e:
            say(f"could not delete the cluster through docker ({e}); removing its processes directly")
    for name in daemons.stop_daemons():
        say(f"stopped {name}")
    deadline = time.monotonic() + 15
    while (left := our_pids()) and time.monotonic() < deadline:
        for pid in left:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        say(f"killed {len(left)} leftover process(es) of ours")
        time.sleep(0.5)
    problems += [f"process {pid} still running" for pid in our_pids()]
    for top in our_cgroup_dirs():
        problems += cgroups.remove_tree(str(top))
    stuck = mounts.umount_all((str(K.STATE_ROOT), str(K.NETNS)))  # longest path first
    stuck += mounts.umount_all((str(K.RUN_ROOT),))
    problems += [f"mount still present: {m}" for m in stuck]
    skip = tuple(LCH.SYSCTLS) if _local_cluster_kubelet_runs() else ()
    problems += hostguard.restore(skip, say)
    for root in (K.RUN_ROOT, K.STATE_ROOT):
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():
            problems.append(f"could not remove {root}")
    if problems:
        raise Failure("down", "left behind:\n  " + "\n  ".join(problems))
    say("kind cluster down: its netns, dockerd, mounts, cgroups and state are gone (the build cache is kept)")


def status() -> int:
    running = {n: daemons.tracked.running(n) for n in ("containerd", "dockerd")}
    for name, t in running.items():
        print(f"{name:12} " + (f"running  pid {t.pid}" if t else "stopped"))
    if not running["dockerd"]:
        print(f"kubeconfig:  {K.kubeconfig_path()} (cluster not running)")
        return 3
    nodes = node_containers()
    for name, up_ in sorted(nodes.items()):
        print(f"node {name:30} {'running' if up_ else 'STOPPED'}")
    pids = our_pids()
    total = sum(rss_kib(p) for p in pids)
    print(f"memory: {len(pids)} processes of ours (netns + cgroup /{K.CGROUP_PARENT}), RSS sum {total / 1024:.0f} MiB")
    stat = cgroup_memory()
    if stat:
        print(f"memory of the nodes (cgroup /{K.CGROUP_PARENT}, shared pages counted once): "
              f"rss {stat['rss'] / 2**20:.0f} MiB, page cache {stat['cache'] / 2**20:.0f} MiB")
    if nodes and any(nodes.values()):
        cp = kubectl("get", "nodes", "-o", "wide", check=False, timeout=30)
        print(cp.stdout.rstrip() or cp.stderr.rstrip())
    print(f"kubeconfig:  {K.kubeconfig_path()} (server on 127.0.0.1 inside netns {K.NETNS})")
    print("clients:     python3 -m testbeds.kindcluster run -- kubectl get pods -A")
    return 0 if nodes and all(nodes.values()) else 3

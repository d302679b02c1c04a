"""up / down / status of the one-node cluster (the hack/local-up-cluster.sh order).

etcd -> certificates -> kube-apiserver -> kubeconfigs + RBAC -> controller-manager
-> scheduler -> containerd + CNI config + images -> kubelet -> node Ready ->
smoke pod answers `kubectl exec`.  Every step checks before it acts, so `up` is
idempotent; every failure names its component and shows the end of its log.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from testbeds.common import apt, cgroups, mounts, smoke
from testbeds.common.failure import Failure
from testbeds.common.pidfiles import rss_kib
from testbeds.localcluster import config_files as C
from testbeds.localcluster import gobuild, hoststate, images, pki, procs
from testbeds.localcluster import settings as S

APT_PACKAGES = ("containerd", "runc", "containernetworking-plugins", "mmdebstrap", "busybox-static",
                "gcc", "libc6-dev", "openssl", "iproute2")
# Stop order for `down`; `up` starts them in reverse.
DAEMONS = ("kubelet", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd", "containerd")


def say(msg: str) -> None:
    print(f"[localcluster {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def binary(name: str) -> str:
    return str(S.bin_dir() / name)


# ---------------------------------------------------------------- helpers

def _tool(component: str, prefix: list[str], args: tuple[str, ...], input: str | None, check: bool,
          timeout: float) -> subprocess.CompletedProcess[str]:
    """Run one of our clients; on failure name the component and quote the client's error."""
    cp = subprocess.run([*prefix, *args], input=input, capture_output=True, text=True, timeout=timeout)
    if check and cp.returncode != 0:
        raise Failure(component, f"{Path(prefix[0]).name} {' '.join(args)} failed: "
                      f"{cp.stderr.strip() or cp.stdout.strip()}")
    return cp


def kubectl(*args: str, input: str | None = None, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return _tool("kubectl", [binary("kubectl"), "--kubeconfig", str(pki.kubeconfig_path("admin"))], args, input,
                 check, timeout)


def ctr(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return _tool("containerd", ["ctr", "--address", C.containerd_socket(), "--namespace", "k8s.io"], args, None,
                 check, timeout)


def crictl(*args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    endpoint = "unix://" + C.containerd_socket()
    return _tool("containerd", [binary("crictl"), "--runtime-endpoint", endpoint, "--image-endpoint", endpoint,
                                "--timeout", "20s"], args, None, check, timeout)


def http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as r:
        status: int = r.status
        return status == 200


def ensure_daemon(name: str, argv: list[str]) -> None:
    if running := procs.tracked.running(name):
        say(f"{name} already running (pid {running.pid})")
        return
    d = procs.tracked.start(name, argv)
    say(f"started {name} (pid {d.pid}, log {procs.tracked.log_path(name)})")


# ---------------------------------------------------------------- steps

def ensure_packages() -> None:
    apt.install(APT_PACKAGES, say)


def ensure_binaries() -> None:
    missing = gobuild.missing_binaries()
    if not missing:
        return
    log = S.build_log_dir() / "gobuild.log"
    say(f"building {', '.join(missing)} with Go (log: {log}); a cold build takes 20-40 min on 2 cores")
    t0 = time.monotonic()
    try:
        gobuild.build_all()
    except Exception as e:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:]) if log.exists() else ""
        raise Failure("go build", f"{e}\n--- last lines of {log} ---\n{tail}") from e
    say(f"Go build done in {time.monotonic() - t0:.0f}s")


def ensure_images() -> list[Path]:
    """Every image archive, built where not cached (the kind cluster loads them too)."""
    try:
        return images.ensure_images(log=say)
    except subprocess.CalledProcessError as e:
        raise Failure("image build", f"{' '.join(map(str, e.cmd[:4]))} failed (rc={e.returncode})") from e


def ensure_node_link() -> None:
    """A portless bridge holding the node IP (the kubelet refuses a loopback node IP)."""
    if subprocess.run(["ip", "link", "show", S.NODE_LINK], capture_output=True).returncode != 0:
        subprocess.run(["ip", "link", "add", S.NODE_LINK, "type", "bridge"], check=True)
    addrs = subprocess.run(["ip", "-o", "-4", "addr", "show", "dev", S.NODE_LINK], capture_output=True, text=True).stdout
    if f" {S.NODE_IP}/32 " not in addrs:
        subprocess.run(["ip", "addr", "add", f"{S.NODE_IP}/32", "dev", S.NODE_LINK], check=True)
    subprocess.run(["ip", "link", "set", S.NODE_LINK, "up"], check=True)


def ensure_netns_mount() -> None:
    """Make /run/netns a shared bind mount of itself, as `ip netns add` and containerd do.

    containerd only does this when it pins its first pod netns; until then a
    hostPath of /run/netns with mountPropagation: HostToContainer (the podnet
    agent's) is refused with "is mounted on / but it is not a shared or slave mount".
    """
    d = hoststate.NETNS_DIR
    if mounts.is_mount_point(d):
        return
    os.makedirs(d, exist_ok=True)
    subprocess.run(["mount", "--bind", d, d], check=True)
    subprocess.run(["mount", "--make-shared", d], check=True)


def write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def start_etcd() -> None:
    url = f"http://127.0.0.1:{S.ETCD_CLIENT_PORT}"
    peer = f"http://127.0.0.1:{S.ETCD_PEER_PORT}"
    ensure_daemon("etcd", [binary("etcd"), "--name", "podnet", "--data-dir", str(S.STATE_ROOT / "etcd"),
                           "--listen-client-urls", url, "--advertise-client-urls", url,
                           "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                           "--initial-cluster", f"podnet={peer}", "--log-level", "warn",
                           "--quota-backend-bytes", str(2 << 30)])
    procs.tracked.wait("etcd", "/health", lambda: http_ok(url + "/health"), 60)


def start_apiserver() -> None:
    p = S.pki_dir()
    ensure_daemon("kube-apiserver", [
        binary("kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{S.ETCD_CLIENT_PORT}",
        "--bind-address=0.0.0.0", f"--secure-port={S.APISERVER_PORT}", f"--advertise-address={S.NODE_IP}",
        f"--cert-dir={S.STATE_ROOT / 'apiserver'}",
        f"--tls-cert-file={p / 'apiserver.crt'}", f"--tls-private-key-file={p / 'apiserver.key'}",
        f"--client-ca-file={p / 'ca.crt'}",
        f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
        f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        f"--service-account-key-file={p / 'sa.pub'}",
        f"--service-account-signing-key-file={p / 'sa.key'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-cluster-ip-range={S.SERVICE_CIDR}",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        # The components' delegated authn reads this; without it they log a missing CA bundle forever.
        f"--requestheader-client-ca-file={p / 'ca.crt'}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        "--profiling=false",
        "--v=1",
    ])
    procs.tracked.wait("kube-apiserver", "/readyz",
                       lambda: kubectl("get", "--raw", "/readyz", check=False).returncode == 0, 180, 1)


def ensure_rbac() -> None:
    # Without this binding the API server's kubelet client is forbidden: every exec/logs fails.
    cp = kubectl("get", "clusterrolebinding", "podnet-apiserver-kubelet-api-admin", check=False)
    if cp.returncode != 0:
        kubectl("create", "clusterrolebinding", "podnet-apiserver-kubelet-api-admin",
                "--clusterrole=system:kubelet-api-admin", "--user=kube-apiserver-kubelet-client")


def start_controllers() -> None:
    p = S.pki_dir()
    cm = str(pki.kubeconfig_path("controller-manager"))
    ensure_daemon("kube-controller-manager", [
        binary("kube-controller-manager"),
        f"--kubeconfig={cm}", f"--authentication-kubeconfig={cm}", f"--authorization-kubeconfig={cm}",
        "--bind-address=127.0.0.1", "--secure-port=10257", "--leader-elect=false",
        "--use-service-account-credentials=true",
        f"--root-ca-file={p / 'ca.crt'}",
        f"--cluster-signing-cert-file={p / 'ca.crt'}", f"--cluster-signing-key-file={p / 'ca.key'}",
        f"--service-account-private-key-file={p / 'sa.key'}",
        f"--service-cluster-ip-range={S.SERVICE_CIDR}",
        f"--cert-dir={S.STATE_ROOT / 'controller-manager'}",
        "--v=1",
    ])
    sc = str(pki.kubeconfig_path("scheduler"))
    ensure_daemon("kube-scheduler", [
        binary("kube-scheduler"),
        f"--kubeconfig={sc}", f"--authentication-kubeconfig={sc}", f"--authorization-kubeconfig={sc}",
        "--bind-address=127.0.0.1", "--secure-port=10259", "--leader-elect=false", "--v=1",
    ])


def start_containerd(network: str) -> None:
    write_if_changed(S.STATE_ROOT / "containerd.toml", C.containerd_config())
    conf_dir = Path(C.cni_conf_dir())
    conf_dir.mkdir(parents=True, exist_ok=True)
    for old in conf_dir.glob("*.conflist"):
        if old.name != "10-podnet.conflist":
            old.unlink()
    write_if_changed(conf_dir / "10-podnet.conflist", C.cni_conflist(network))
    ensure_daemon("containerd", ["containerd", "--config", str(S.STATE_ROOT / "containerd.toml")])
    procs.tracked.wait("containerd", "its socket", lambda: ctr("version", check=False).returncode == 0, 60)
    have = set(ctr("images", "ls", "-q").stdout.split())
    for ref in images.BUILDERS:
        if ref not in have:
            say(f"importing {ref}")
            cp = ctr("images", "import", str(images.archive_path(ref)), check=False)
            if cp.returncode != 0 or ref not in set(ctr("images", "ls", "-q").stdout.split()):
                raise Failure("containerd", f"importing {ref} failed: {cp.stderr.strip() or cp.stdout.strip()}")


def start_kubelet() -> None:
    write_if_changed(S.STATE_ROOT / "kubelet-config.json", C.kubelet_config())
    ensure_daemon("kubelet", [
        binary("kubelet"),
        f"--config={S.STATE_ROOT / 'kubelet-config.json'}",
        f"--kubeconfig={pki.kubeconfig_path('kubelet')}",
        f"--root-dir={S.STATE_ROOT / 'kubelet'}",
        f"--hostname-override={S.NODE_NAME}",
        f"--node-ip={S.NODE_IP}",
        "--v=1",
    ])
    procs.tracked.wait("kubelet", "healthz", lambda: http_ok("http://127.0.0.1:10248/healthz"), 90)


def node_ready() -> bool:
    cp = kubectl("get", "node", S.NODE_NAME, "-o", "json", check=False)
    if cp.returncode != 0:
        return False
    conds = json.loads(cp.stdout).get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def smoke_test() -> None:
    # a smoke pod that fails is most likely the kubelet's doing: its log follows the failure
    smoke.check(kubectl, S.SMOKE_NAMESPACE, S.BUSYBOX_IMAGE, "Never", blame="kubelet", say=say)


def up(network: str = "bridge", smoke: bool = True) -> None:
    if os.geteuid() != 0:
        raise Failure("preflight", "must run as root")
    t0 = time.monotonic()
    ensure_packages()
    ensure_binaries()
    ensure_images()
    hoststate.record_once()
    S.RUN_ROOT.mkdir(parents=True, exist_ok=True)
    pki.ensure_pki(S.pki_dir())
    pki.ensure_kubeconfigs(S.pki_dir())
    ensure_node_link()
    ensure_netns_mount()
    start_containerd(network)
    start_etcd()
    start_apiserver()
    ensure_rbac()
    start_controllers()
    start_kubelet()
    procs.tracked.wait("kubelet", f"node {S.NODE_NAME} Ready", node_ready, 120, 1)
    say(f"node {S.NODE_NAME} is Ready")
    if smoke:
        smoke_test()
    say(f"cluster up in {time.monotonic() - t0:.0f}s; "
        f"export KUBECONFIG={pki.kubeconfig_path('admin')}; kubectl: {binary('kubectl')}")


# ---------------------------------------------------------------- down

def remove_pods(before: hoststate.Snapshot) -> list[str]:
    """Stop and remove every sandbox through CRI so containerd runs CNI DEL and unpins each netns."""
    if procs.tracked.running("containerd") is None or not Path(binary("crictl")).exists():
        return []
    ids = crictl("pods", "-q", check=False).stdout.split()
    for pid in ids:
        crictl("stopp", pid, check=False)
        crictl("rmp", "-f", pid, check=False)
    if ids:
        say(f"removed {len(ids)} pod sandbox(es) through CRI")
    return []


def _stop_kubelet(before: hoststate.Snapshot) -> list[str]:
    if procs.tracked.stop("kubelet"):
        say("stopped kubelet")
    return []


def _stop_daemons(before: hoststate.Snapshot) -> list[str]:
    for name in DAEMONS[1:]:
        if procs.tracked.stop(name):
            say(f"stopped {name}")
    return []


def _kill_leftovers(before: hoststate.Snapshot) -> list[str]:
    """Shims (started by our containerd with our socket path) and anything else still naming
    our private roots: ours by construction, stopped by pid."""
    ours = (str(S.RUN_ROOT) + "/", str(S.STATE_ROOT) + "/", str(S.bin_dir()) + "/")
    deadline = time.monotonic() + 10
    while (left := procs.pids_mentioning(ours)) and time.monotonic() < deadline:
        for pid in left:
            try:
                os.kill(pid, 9)
                say(f"killed leftover process {pid}")
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    return [f"process {pid} still running" for pid in procs.pids_mentioning(ours)]


def _unmount_ours(before: hoststate.Snapshot) -> list[str]:
    return [f"mount still present: {m}" for m in mounts.umount_all((str(S.STATE_ROOT), str(S.RUN_ROOT)))]


def _remove_netns_pins(before: hoststate.Snapshot) -> list[str]:
    """Only containerd's own pins (cni-<uuid>) that were not there before: other netns on this
    machine (tests, other tools) are never ours to remove."""
    problems = []
    for ns in sorted(set(hoststate.netns_files()) - set(before["netns"])):
        if not ns.startswith("cni-"):
            continue
        path = f"/var/run/netns/{ns}"
        subprocess.run(["umount", path], capture_output=True)
        try:
            os.unlink(path)
            say(f"removed leftover netns {ns}")
        except OSError as e:
            problems.append(f"netns {ns}: {e.strerror}")
    if not before.get("netns_mount", True) and mounts.is_mount_point(hoststate.NETNS_DIR):
        if subprocess.run(["umount", hoststate.NETNS_DIR], capture_output=True).returncode != 0:
            problems.append(f"could not unmount {hoststate.NETNS_DIR}")
    return problems


def _delete_links(before: hoststate.Snapshot) -> list[str]:
    """Only links this tool makes: pod veths (enslaved to cni0, or carrying the ptp gateway
    address) and then the two bridges, each only if it was not there before."""
    problems = []
    for link in hoststate.our_pod_veths(S.CNI_BRIDGE, S.POD_GATEWAY):
        if subprocess.run(["ip", "link", "del", link], capture_output=True).returncode == 0:
            say(f"deleted leftover veth {link}")
    for link in (S.CNI_BRIDGE, S.NODE_LINK):
        if link not in before["links"] and link in hoststate.links():
            if subprocess.run(["ip", "link", "del", link], capture_output=True).returncode == 0:
                say(f"deleted link {link}")
            else:
                problems.append(f"could not delete link {link}")
    return problems


def _remove_cgroups(before: hoststate.Snapshot) -> list[str]:
    problems = []
    for cg in set(hoststate.kubepods_cgroups()) - set(before["kubepods"]):
        problems += cgroups.remove_tree(cg)
    return problems


def _restore_sysctls(before: hoststate.Snapshot) -> list[str]:
    for kv in hoststate.restore_sysctls(before["sysctls"]):
        say(f"restored sysctl {kv}")
    return []


def _remove_shared_files(before: hoststate.Snapshot) -> list[str]:
    """Container log links into our state dir, libcni's cached ADD results for our network
    (/var/lib/cni/results/<network>-<id>-<ifname>), and the shared directories we created."""
    logs = Path("/var/log/containers")
    if logs.is_dir():
        for entry in logs.iterdir():
            if entry.is_symlink() and os.readlink(entry).startswith(str(S.STATE_ROOT)):
                entry.unlink()
    for cached in Path("/var/lib/cni/results").glob("podnet-*"):
        cached.unlink(missing_ok=True)
    for d in hoststate.SHARED_DIRS:
        if d not in before["dirs"] and os.path.isdir(d):
            _rmdir_tree_if_empty(d)
    return []


def _remove_state(before: hoststate.Snapshot) -> list[str]:
    problems = []
    for root in (S.RUN_ROOT, S.STATE_ROOT):
        shutil.rmtree(root, ignore_errors=True)
        if root.exists():
            problems.append(f"could not remove {root}")
    return problems


# `down`, in order: each step reports what it could not undo, and every step runs.
DOWN_STEPS = (
    ("stop the kubelet", _stop_kubelet),
    ("remove pod sandboxes", remove_pods),
    ("stop the daemons", _stop_daemons),
    ("kill leftover processes", _kill_leftovers),
    ("unmount our directories", _unmount_ours),
    ("remove netns pins", _remove_netns_pins),
    ("delete links", _delete_links),
    ("remove kubepods cgroups", _remove_cgroups),
    ("restore sysctls", _restore_sysctls),
    ("remove shared files", _remove_shared_files),
    ("remove state", _remove_state),
)


def down() -> None:
    before = hoststate.load()
    if before is None and not S.STATE_ROOT.exists() and not S.RUN_ROOT.exists():
        say("nothing to do: no cluster state on this machine")
        return
    before = before or {"links": [], "netns": [], "kubepods": [], "sysctls": {}, "dirs": list(hoststate.SHARED_DIRS)}
    problems: list[str] = []
    for name, step in DOWN_STEPS:
        problems += [f"{name}: {p}" for p in step(before)]
    if problems:
        raise Failure("down", "left behind:\n  " + "\n  ".join(problems))
    say("cluster down; machine state restored")


def _rmdir_tree_if_empty(d: str) -> None:
    for dirpath, _, files in os.walk(d, topdown=False):
        if not files:
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


# ---------------------------------------------------------------- status

def status() -> int:
    total = 0
    any_running = False
    for name in reversed(DAEMONS):
        d = procs.tracked.running(name)
        if d:
            any_running = True
            rss = rss_kib(d.pid)
            total += rss
            print(f"{name:24} running  pid {d.pid:<7} rss {rss / 1024:7.1f} MiB")
        else:
            print(f"{name:24} stopped" + ("  (stale pidfile)" if procs.tracked.read(name) else ""))
    shims = procs.pids_with_arg(C.containerd_socket())
    shim_rss = sum(rss_kib(p) for p in shims)
    total += shim_rss
    print(f"{'containerd shims':24} {len(shims)} running, rss {shim_rss / 1024:.1f} MiB")
    print(f"{'total rss':24} {total / 1024:.1f} MiB")
    if procs.tracked.running("kube-apiserver"):
        cp = kubectl("get", "nodes", "-o", "wide", check=False)
        print(cp.stdout.rstrip() or cp.stderr.rstrip())
        cp = kubectl("get", "pods", "-A", "-o", "wide", check=False)
        print(cp.stdout.rstrip() or cp.stderr.rstrip())
    print(f"kubeconfig: {pki.kubeconfig_path('admin')}")
    print(f"kubectl:    {binary('kubectl')}")
    print(f"logs:       {S.log_dir()}")
    return 0 if any_running else 3

"""containerd + dockerd of our own, in a network namespace of our own.

kind's nodes are docker containers; the docker engine that runs them here is not
the machine's: its sockets, roots and pidfiles are under RUN_ROOT/STATE_ROOT, its
containers' cgroups under /podnet-kind, and both daemons run in the network
namespace pinned at RUN_ROOT/netns.  So docker's bridge, its iptables rules and the
API server port kind publishes on 127.0.0.1 all live in that namespace and vanish
with it; clients reach them by entering it (`python3 -m testbeds.kindcluster run -- CMD`).

We start containerd ourselves (dockerd 20.10 would otherwise adopt a system
containerd at /run/containerd/containerd.sock where one runs, as on GitHub runners).
Processes are tracked by pidfile + start time, never found by name.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from testbeds.common import mounts
from testbeds.common.failure import Failure
from testbeds.common.pidfiles import Daemons
from testbeds.kindcluster import kind_settings as K

HERE = Path(__file__).resolve().parent
tracked = Daemons(pid_dir=K.RUN_ROOT / "pids", log_dir=K.log_dir())


# ------------------------------------------------------------------ the namespace

def netns_ready() -> bool:
    return mounts.is_mount_point(str(K.NETNS))


def ensure_netns() -> None:
    """RUN_ROOT as a private bind mount of itself (nsfs pins need a non-shared parent), the netns pinned in it."""
    K.RUN_ROOT.mkdir(parents=True, exist_ok=True)
    if not mounts.is_mount_point(str(K.RUN_ROOT)):
        subprocess.run(["mount", "--bind", str(K.RUN_ROOT), str(K.RUN_ROOT)], check=True)
        subprocess.run(["mount", "--make-private", str(K.RUN_ROOT)], check=True)
    if not netns_ready():
        K.NETNS.touch()
        subprocess.run(["unshare", f"--net={K.NETNS}", "true"], check=True)
    subprocess.run(in_netns(["ip", "link", "set", "lo", "up"]), check=True)


def in_netns(argv: list[str]) -> list[str]:
    return ["nsenter", f"--net={K.NETNS}", "--", *argv]


# ------------------------------------------------------------------ capability

def lacks_sys_resource() -> bool:
    """True when this process's bounding set has no CAP_SYS_RESOURCE (bit 24): then runc cannot
    grant it to a privileged container, and the runtime wrapper is needed."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("CapBnd:"):
            return not int(line.split()[1], 16) >> 24 & 1
    return False


def real_runc() -> str:
    for cand in (shutil.which("runc"), "/usr/sbin/runc", "/usr/bin/runc"):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise Failure("runc", "no runc found (apt-get install runc)")


def install_wrapper() -> Path:
    """The runc wrapper, with the real runc's path written into it."""
    text = (HERE / "runc_wrapper.py").read_text()
    text = text.replace('os.environ.get("PODNET_REAL_RUNC", "/usr/sbin/runc")', repr(real_runc()))
    out = K.STATE_ROOT / "runc-wrapper"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists() or out.read_text() != text:
        tmp = out.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.rename(out)
    return out


# ------------------------------------------------------------------ the daemons

def containerd_socket() -> Path:
    return K.RUN_ROOT / "containerd.sock"


def containerd_config() -> str:
    return f"""version = 2
root = "{K.STATE_ROOT / 'containerd'}"
state = "{K.RUN_ROOT / 'containerd'}"
# dockerd does not use containerd's CRI; the cluster's own containerd runs inside each node
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{containerd_socket()}"
[ttrpc]
  address = "{containerd_socket()}.ttrpc"
[debug]
  address = "{K.RUN_ROOT / 'containerd-debug.sock'}"
"""


def dockerd_argv(wrapper: Path | None) -> list[str]:
    argv = [
        shutil.which("dockerd") or "/usr/sbin/dockerd",
        "--config-file", str(K.STATE_ROOT / "daemon.json"),
        "-H", K.DOCKER_HOST,
        "--containerd", str(containerd_socket()),
        "--data-root", str(K.STATE_ROOT / "docker"),
        "--exec-root", str(K.RUN_ROOT / "exec"),
        "--pidfile", str(K.RUN_ROOT / "dockerd.pid"),
        "--exec-opt", "native.cgroupdriver=cgroupfs",
        "--cgroup-parent", f"/{K.CGROUP_PARENT}",
        "--storage-driver", "overlay2",
        "--log-level", "warn",
        # the nodes keep running through a dockerd crash; `up` restarts dockerd, which re-attaches
        "--live-restore",
        # 127.0.0.1 ports by DNAT in our netns, not by docker-proxy children a dead dockerd would orphan
        "--userland-proxy=false",
    ]
    if wrapper is not None:
        argv += ["--add-runtime", f"{K.RUNTIME_NAME}={wrapper}", "--default-runtime", K.RUNTIME_NAME]
    return argv


def docker(*args: str, check: bool = True, timeout: float = 600, input: bytes | None = None,
           capture: bool = True) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ, DOCKER_HOST=K.DOCKER_HOST)
    cp = subprocess.run([docker_cli(), *args], env=env, capture_output=capture, timeout=timeout, input=input)
    if check and cp.returncode != 0:
        err = (cp.stderr or b"").decode(errors="replace").strip()
        raise Failure("docker", f"docker {' '.join(args[:3])} failed: {err[-800:]}")
    return cp


def docker_cli() -> str:
    # Debian's docker.io client matches its dockerd; a newer client elsewhere on PATH
    # (/usr/local/bin here) would negotiate down anyway, but keep to the pair we start.
    for cand in ("/usr/bin/docker", shutil.which("docker")):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise Failure("docker", "no docker client found")


def docker_ready() -> bool:
    try:
        return docker("version", "--format", "{{.Server.Version}}", check=False, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def ensure_daemons(say: Callable[[str], None]) -> None:
    ensure_netns()
    K.STATE_ROOT.mkdir(parents=True, exist_ok=True)
    (K.STATE_ROOT / "daemon.json").write_text("{}\n")
    (K.STATE_ROOT / "containerd.toml").write_text(containerd_config())
    if tracked.running("containerd") is None:
        containerd_socket().unlink(missing_ok=True)
        t = tracked.start("containerd", in_netns([shutil.which("containerd") or "/usr/bin/containerd",
                                                  "--config", str(K.STATE_ROOT / "containerd.toml")]))
        say(f"started containerd (pid {t.pid}, log {tracked.log_path('containerd')})")
    tracked.wait("containerd", "its socket", containerd_socket().exists, 60, 0.3)
    if tracked.running("dockerd") is None:
        wrapper = install_wrapper() if lacks_sys_resource() else None
        if wrapper:
            say(f"CAP_SYS_RESOURCE is not in this root's bounding set: runc runs through {wrapper}")
        (K.RUN_ROOT / "dockerd.pid").unlink(missing_ok=True)  # left by a kill -9: dockerd refuses to start
        t = tracked.start("dockerd", in_netns(dockerd_argv(wrapper)))
        say(f"started dockerd (pid {t.pid}, log {tracked.log_path('dockerd')})")
    tracked.wait("dockerd", "its API", docker_ready, 90, 0.3)


def stop_daemons() -> list[str]:
    """dockerd, then containerd (its shims and their containers are gone by now if kind deleted them)."""
    stopped = [n for n in ("dockerd", "containerd") if tracked.stop(n, timeout=20)]
    return stopped

"""Build a lab node for real (netns, veth, bridge, cgroups, processes) and tear it down.

Everything created is recorded in a state file as soon as it exists, so teardown (and
`kubectl podnet lab clean`, after `--keep` or a crash) removes exactly what we made:
processes are found by our cgroup root, netns by our prefix, cgroups by our root dir.
Needs root.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field

import kubectl_podnet
from kubectl_podnet.errors import NodeError, UsageError
from kubectl_podnet.lab.plan import node_commands, pod_commands
from kubectl_podnet.lab.spec import LabPlan, PodPlan, PodSpec, cgroup_path, plan_lab
from kubectl_podnet.node.cniconf import CNI_CONF_DIR_ENV
from kubectl_podnet.node.nsenter import CLONE_NEWNET, enter_netns, unshare
from kubectl_podnet.node.procfs import NETNS_DIR

STATE_DIR = "/run/podnet-lab"
CGROUP_ROOT = "/sys/fs/cgroup"

# A container that serves: bind every address given ("udp:" first: a UDP socket), accept and
# close (UDP: read and drop), never resolve names.
SERVER = r"""
import select, socket, sys
socks = []
for spec in sys.argv[1:]:
    udp = spec.startswith("udp:")
    host, port = spec[4 if udp else 0:].rsplit(":", 1)
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and host == "::":
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((host, int(port)))
    if not udp:
        s.listen(64)
    socks.append(s)
print("ready", flush=True)
while True:
    for s in select.select(socks, [], [])[0]:
        if s.type == socket.SOCK_DGRAM:
            s.recvfrom(65535)
        else:
            s.accept()[0].close()
"""


def cgroup_hierarchy(layout: str) -> str:
    """Where a layout lives on this machine: the v2 mount, or the v1 pids hierarchy."""
    unified = f"{CGROUP_ROOT}/unified"
    pure_v2 = os.path.exists(f"{CGROUP_ROOT}/cgroup.controllers")
    if layout == "v2-systemd":
        return CGROUP_ROOT if pure_v2 else unified
    if pure_v2:
        raise UsageError("this machine has no cgroup v1 hierarchy for the v1-cgroupfs layout")
    return f"{CGROUP_ROOT}/pids"


def run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise NodeError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.returncode}")


@dataclass
class LabState:
    prefix: str
    netns: list[str] = field(default_factory=list)
    cgroup_roots: list[str] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{STATE_DIR}/{self.prefix}.json"

    def save(self) -> None:
        os.makedirs(STATE_DIR, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as handle:
            json.dump(self.__dict__, handle)

    @classmethod
    def load(cls, prefix: str) -> LabState:
        try:
            with open(f"{STATE_DIR}/{prefix}.json", encoding="utf-8") as handle:
                return cls(**json.load(handle))
        except FileNotFoundError:
            return cls(prefix=prefix)


def cni_conf_dir(prefix: str) -> str:
    """The lab node's own /etc/cni/net.d: the agent reads it instead of this machine's."""
    return f"{STATE_DIR}/{prefix}.net.d"


class LabNode:
    """A node netns with pods in it; use as a context manager to always tear down.

    `cni_config`: the CNI config file the node's runtime would read, (name, JSON text), written
    to the lab node's own config directory (empty without one)."""

    def __init__(self, prefix: str, pods: list[PodSpec], cni_config: tuple[str, str] | None = None,
                 node_index: int = 0) -> None:
        if os.geteuid() != 0:
            raise UsageError("the lab needs root (it creates network namespaces and cgroups)")
        if shutil.which("ip") is None:
            raise UsageError("the lab needs iproute2's `ip` command (apt-get install iproute2)")
        self.plan: LabPlan = plan_lab(prefix, pods, node_index)
        self.state = LabState.load(prefix)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.commands: list[list[str]] = []
        self.cni_config = cni_config

    def __enter__(self) -> LabNode:
        try:
            self.build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    # ---- build -------------------------------------------------------------------------

    def run_commands(self, commands: list[list[str]]) -> None:
        """Run `ip` commands on the built lab (a mode's deliberate break), recorded like the build's."""
        self._run_all(commands)

    def _run_all(self, commands: list[list[str]]) -> None:
        for argv in commands:
            if argv[:3] == ["ip", "netns", "add"]:
                self.state.netns.append(argv[3])
                self.state.save()
            run(argv)
            self.commands.append(argv)

    def netns_path(self, name: str) -> str:
        return f"{NETNS_DIR}/{name}"

    def build(self) -> None:
        directory = cni_conf_dir(self.plan.prefix)
        os.makedirs(directory, exist_ok=True)
        if self.cni_config is not None:
            name, text = self.cni_config
            with open(f"{directory}/{name}", "w", encoding="utf-8") as handle:
                handle.write(text)
        self._run_all(node_commands(self.plan))
        for pod in self.plan.pods:
            self._run_all(pod_commands(self.plan, pod))
            self._start_pod(pod)

    def _cgroup_dir(self, pod: PodPlan, container_id: str) -> str:
        hierarchy = cgroup_hierarchy(pod.spec.cgroup)
        relative = cgroup_path(self.plan.prefix, pod, container_id)
        root = f"{hierarchy}/{relative.split('/', 1)[0]}"
        if root not in self.state.cgroup_roots:
            self.state.cgroup_roots.append(root)
            self.state.save()
        directory = f"{hierarchy}/{relative}"
        os.makedirs(directory, exist_ok=True)
        return directory

    def _start_pod(self, pod: PodPlan) -> None:
        netns = self.netns_path(pod.netns) if pod.netns else self.netns_path(self.plan.node_netns)
        if pod.spec.pause:
            sleep = shutil.which("sleep") or "/bin/sleep"
            # argv[0] "/pause", as the pause image runs it; the agent knows a sandbox by that name
            self._spawn(["/pause", "infinity"], pod, pod.sandbox_id, netns, executable=sleep)
        for container in pod.spec.containers:
            cid = pod.container_ids[container.name]
            target = None if container.own_netns else netns
            if container.listen:
                addresses = [a.replace("pod:", f"{pod.ipv4}:") for a in container.listen]
                argv = [sys.executable, "-I", "-S", "-c", SERVER, *addresses]
                self._spawn(argv, pod, cid, target, wait_ready=True)
            else:
                self._spawn(["sleep", "infinity"], pod, cid, target, executable=shutil.which("sleep"))

    def _spawn(
        self,
        argv: list[str],
        pod: PodPlan,
        container_id: str,
        netns: str | None,
        executable: str | None = None,
        wait_ready: bool = False,
    ) -> None:
        procs_file = f"{self._cgroup_dir(pod, container_id)}/cgroup.procs"

        def enter() -> None:  # runs in the child between fork and exec
            with open(procs_file, "w", encoding="ascii") as handle:
                handle.write(str(os.getpid()))
            if netns is None:
                unshare(CLONE_NEWNET)
            else:
                enter_netns(netns)

        process = subprocess.Popen(
            argv,
            executable=executable,
            preexec_fn=enter,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if wait_ready else subprocess.DEVNULL,
            stderr=subprocess.PIPE if wait_ready else subprocess.DEVNULL,
        )
        self.processes.append(process)
        self.state.pids.append(process.pid)
        self.state.save()
        if wait_ready:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != b"ready":
                error = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise NodeError(f"lab server {argv[-1]} did not start: {error.strip().splitlines()[-1:]}")

    # ---- teardown ----------------------------------------------------------------------

    def teardown(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        self.processes.clear()
        clean(self.plan.prefix)


def _pids_in(root: str) -> set[int]:
    pids: set[int] = set()
    for directory, _, files in os.walk(root):
        if "cgroup.procs" in files:
            try:
                with open(f"{directory}/cgroup.procs", encoding="ascii") as handle:
                    pids.update(int(line) for line in handle if line.strip())
            except OSError:
                continue
    return pids


def _rmdir(directory: str) -> None:
    for _ in range(100):  # a killed process leaves its cgroup a moment after it dies
        try:
            os.rmdir(directory)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)
    raise NodeError(f"cannot remove cgroup {directory}: still busy")


def clean(prefix: str) -> list[str]:
    """Remove everything a lab with this prefix created; returns what was removed."""
    state = LabState.load(prefix)
    removed: list[str] = []
    roots = set(state.cgroup_roots)
    for hierarchy in (f"{CGROUP_ROOT}/unified", CGROUP_ROOT, f"{CGROUP_ROOT}/pids"):
        for name in (prefix, f"{prefix}.slice"):
            if os.path.isdir(f"{hierarchy}/{name}"):
                roots.add(f"{hierarchy}/{name}")
    # processes: only those inside our own cgroup roots
    for _ in range(50):
        pids = set().union(*(_pids_in(root) for root in roots)) if roots else set()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        removed.extend(f"process {pid}" for pid in sorted(pids))
        time.sleep(0.02)
    for root in roots:
        for directory, _, _ in os.walk(root, topdown=False):
            _rmdir(directory)
        removed.append(f"cgroup {root}")
    names = set(state.netns)
    if os.path.isdir(NETNS_DIR):
        names.update(n for n in os.listdir(NETNS_DIR) if n.startswith(f"{prefix}-"))
    for name in sorted(names):
        if os.path.exists(f"{NETNS_DIR}/{name}"):
            run(["ip", "netns", "del", name])
            removed.append(f"netns {name}")
    try:
        os.unlink(state.path)
    except FileNotFoundError:
        pass
    if os.path.isdir(cni_conf_dir(prefix)):
        shutil.rmtree(cni_conf_dir(prefix))
        removed.append(f"CNI config {cni_conf_dir(prefix)}")
    return removed


def run_agent(node_netns: str, request_json: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the node agent inside the lab node's netns, as the DaemonSet runs it (hostNetwork)."""

    # the child must import this very package, wherever it was loaded from: a venv, a checkout,
    # or the single-file build's unpacked cache, which no python3 finds on its own
    home = os.path.dirname(os.path.dirname(os.path.abspath(kubectl_podnet.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")])),
           # the lab node's CNI config, never this machine's (a local cluster's may be there)
           CNI_CONF_DIR_ENV: cni_conf_dir(node_netns.removesuffix("-node"))}
    return subprocess.run(
        [sys.executable, "-m", "kubectl_podnet.node", "--request", request_json],
        preexec_fn=lambda: enter_netns(f"{NETNS_DIR}/{node_netns}"),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

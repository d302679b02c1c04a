"""Which cluster the e2e tier runs against, and the images it uses there.

Decision, in this order:
1. a kubeconfig the user names (`--kubeconfig`, `PODNET_E2E_KUBECONFIG`, `KUBECONFIG`): used
   as it is, never created or deleted;
2. the project's local one-node cluster (`e2e/localcluster/localcluster.py status` says it
   runs): its own kubectl and its locally built images, since nothing can be pulled there;
3. kind, when `kind` and a working container engine are on PATH: a cluster from
   e2e/kind.yaml (one control plane, two workers), the images pulled once on the host and
   loaded into the nodes, deleted at the end unless `--keep-cluster`;
4. otherwise no cluster: the run fails (an e2e run that tests nothing must not look green).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
KIND_CONFIG = HERE / "kind.yaml"
KIND_CLUSTER = os.environ.get("PODNET_E2E_KIND_CLUSTER", "podnet-e2e")
LOCALCLUSTER = HERE / "localcluster" / "localcluster.py"

# short names: the container engine and the kind nodes resolve them the same way
KIND_WORKLOAD_IMAGE = "busybox:1.36"
# the local cluster's images, in case its settings cannot be read
LOCAL_AGENT_IMAGE = "localhost/podnet/python:3.11-bookworm"
LOCAL_WORKLOAD_IMAGE = "localhost/podnet/busybox:1.35"


class NoCluster(Exception):
    """Nothing to run against; the message says every way to get a cluster."""


@dataclass
class Target:
    source: str  # "kubeconfig" | "localcluster" | "kind"
    kubeconfig: str
    kubectl: str
    agent_image: str | None  # None: the plugin's default image
    workload_image: str
    kind_cluster: str | None = None  # set when this run created the kind cluster
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        agent = self.agent_image or "the plugin's default"
        return (f"e2e target: {self.source} (kubeconfig {self.kubeconfig}, kubectl {self.kubectl}); "
                f"agent image {agent}; workload image {self.workload_image}")


@dataclass(frozen=True)
class Wanted:
    """What the user asked for (options or environment); None means choose."""

    kubeconfig: str | None = None
    kubectl: str | None = None
    agent_image: str | None = None
    workload_image: str | None = None
    keep_cluster: bool = False


def _local_settings() -> object | None:
    path = HERE / "localcluster" / "settings.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("_podnet_localcluster_settings", path)
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:  # the other tool's file: its images are a convenience, not a need
        return None
    return module


def local_cluster() -> tuple[str, str] | None:
    """(kubeconfig, kubectl) of the local one-node cluster when it runs, else None."""
    if not LOCALCLUSTER.is_file():
        return None
    try:
        done = subprocess.run([sys.executable, str(LOCALCLUSTER), "status"], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    fields = dict(line.split(":", 1) for line in done.stdout.splitlines() if line.startswith(("kubeconfig:", "kubectl:")))
    kubeconfig, kubectl = fields.get("kubeconfig", "").strip(), fields.get("kubectl", "").strip()
    if not (kubeconfig and Path(kubeconfig).is_file()):
        return None
    return kubeconfig, (kubectl if kubectl and Path(kubectl).is_file() else shutil.which("kubectl") or "kubectl")


def local_images() -> tuple[str, str]:
    settings = _local_settings()
    return (
        str(getattr(settings, "PYTHON_IMAGE", LOCAL_AGENT_IMAGE)),
        str(getattr(settings, "BUSYBOX_IMAGE", LOCAL_WORKLOAD_IMAGE)),
    )


def _engine() -> str | None:
    for name in ("docker", "podman"):
        path = shutil.which(name)
        if path and subprocess.run([path, "info"], capture_output=True, timeout=60).returncode == 0:
            return path
    return None


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def resolve(wanted: Wanted) -> Target:
    explicit = wanted.kubeconfig or os.environ.get("PODNET_E2E_KUBECONFIG") or os.environ.get("KUBECONFIG")
    local = local_cluster()
    if explicit:
        path = explicit.split(os.pathsep)[0]
        if not Path(path).is_file():
            raise NoCluster(f"the kubeconfig {path} does not exist")
        if local and _same_file(path, local[0]):
            return _local_target(wanted, local)
        return Target(
            source="kubeconfig",
            kubeconfig=path,
            kubectl=wanted.kubectl or shutil.which("kubectl") or "kubectl",
            agent_image=wanted.agent_image,
            workload_image=wanted.workload_image or KIND_WORKLOAD_IMAGE,
        )
    if local:
        return _local_target(wanted, local)
    kind, engine = shutil.which("kind"), _engine()
    if kind and engine:
        return create_kind(wanted, kind, engine)
    missing = "kind is not on PATH" if not kind else "no container engine answers (docker info / podman info)"
    raise NoCluster(
        "no cluster to run against: pass --kubeconfig or set KUBECONFIG; or start the local cluster "
        f"(python3 e2e/localcluster/localcluster.py up); or install kind and docker ({missing})"
    )


def _local_target(wanted: Wanted, local: tuple[str, str]) -> Target:
    agent, workload = local_images()
    return Target(
        source="localcluster",
        kubeconfig=local[0],
        kubectl=wanted.kubectl or local[1],
        agent_image=wanted.agent_image or agent,
        workload_image=wanted.workload_image or workload,
    )


def _agent_default_image() -> str:
    from kubectl_podnet.cluster.manifests import DEFAULT_IMAGE

    return DEFAULT_IMAGE


def _step(argv: list[str], timeout: float = 600) -> None:
    print("e2e:", " ".join(argv), file=sys.stderr, flush=True)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise NoCluster(f"`{' '.join(argv)}` failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")


def create_kind(wanted: Wanted, kind: str, engine: str) -> Target:
    """Create (or reuse) the kind cluster and load the images the suite needs into it."""
    kubeconfig = str(Path(tempfile.gettempdir()) / f"{KIND_CLUSTER}.kubeconfig")
    existing = subprocess.run([kind, "get", "clusters"], capture_output=True, text=True).stdout.split()
    created = KIND_CLUSTER not in existing
    if created:
        _step([kind, "create", "cluster", "--name", KIND_CLUSTER, "--config", str(KIND_CONFIG),
               "--kubeconfig", kubeconfig, "--wait", "180s"])
    else:
        _step([kind, "export", "kubeconfig", "--name", KIND_CLUSTER, "--kubeconfig", kubeconfig])
    agent_image = wanted.agent_image or _agent_default_image()
    workload_image = wanted.workload_image or KIND_WORKLOAD_IMAGE
    for image in (agent_image, workload_image):
        if subprocess.run([engine, "image", "inspect", image], capture_output=True).returncode != 0:
            _step([engine, "pull", image])
        _step([kind, "load", "docker-image", image, "--name", KIND_CLUSTER])
    return Target(
        source="kind",
        kubeconfig=kubeconfig,
        kubectl=wanted.kubectl or shutil.which("kubectl") or "kubectl",
        agent_image=wanted.agent_image,  # the plugin's default, now present on every node
        workload_image=workload_image,
        kind_cluster=KIND_CLUSTER if created and not wanted.keep_cluster else None,
        notes=[] if created else [f"reused the existing kind cluster {KIND_CLUSTER}: it is kept"],
    )


def delete_kind(name: str) -> None:
    kind = shutil.which("kind")
    if kind:
        subprocess.run([kind, "delete", "cluster", "--name", name], capture_output=True, timeout=300)

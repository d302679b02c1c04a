"""Which cluster the e2e tier runs against, and the images it uses there.

The target is chosen explicitly, never guessed:
1. a kubeconfig the user names (`--kubeconfig`, `PODNET_E2E_KUBECONFIG`, `KUBECONFIG`): used
   as it is, never created or deleted; when it is one of our two clusters' own kubeconfigs,
   that cluster's locally built images are used;
2. `E2E_CLUSTER=local`: the project's one-node cluster (testbeds.localcluster), which must be up;
3. `E2E_CLUSTER=kind`: the project's three-node kind cluster (testbeds.kindcluster), which must be
   up, and the run must be inside its network namespace (`e2e/run.sh` does that);
4. otherwise no cluster: the run fails (an e2e run that tests nothing must not look green).
Both clusters are brought up by their own tool; the suite never creates or deletes a cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from testbeds.localcluster import settings as local_settings

REPO = Path(__file__).resolve().parent.parent
# the two cluster tools, run as `python -m` from the repository root (standard library only)
LOCALCLUSTER = "testbeds.localcluster"
KINDCLUSTER = "testbeds.kindcluster"
CLUSTERS = ("local", "kind")

# for a kubeconfig of some other cluster: short names resolve the same way everywhere
DEFAULT_WORKLOAD_IMAGE = "busybox:1.36"


class NoCluster(Exception):
    """Nothing to run against; the message says every way to get a cluster."""


@dataclass
class Target:
    source: str  # "kubeconfig" | "localcluster" | "kindcluster"
    kubeconfig: str
    kubectl: str
    agent_image: str | None  # None: the plugin's default image
    workload_image: str
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
    cluster: str | None = None  # E2E_CLUSTER: local | kind


def _tool_status(tool: str) -> dict[str, str] | None:
    """`status` of one of our cluster tools: its `key: value` lines when it runs, else None."""
    try:
        done = subprocess.run([sys.executable, "-m", tool, "status"], cwd=REPO, capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)}


def local_cluster() -> tuple[str, str] | None:
    """(kubeconfig, kubectl) of the local one-node cluster when it runs, else None."""
    fields = _tool_status(LOCALCLUSTER)
    if fields is None:
        return None
    kubeconfig, kubectl = fields.get("kubeconfig", ""), fields.get("kubectl", "")
    if not (kubeconfig and Path(kubeconfig).is_file()):
        return None
    return kubeconfig, (kubectl if kubectl and Path(kubectl).is_file() else shutil.which("kubectl") or "kubectl")


def kind_cluster() -> str | None:
    """The kubeconfig of the three-node kind cluster when it runs, else None."""
    fields = _tool_status(KINDCLUSTER)
    if fields is None:
        return None
    kubeconfig = fields.get("kubeconfig", "").split(" (")[0]
    return kubeconfig if kubeconfig and Path(kubeconfig).is_file() else None


def local_images() -> tuple[str, str]:
    """(agent, workload) images the local cluster builds; the kind cluster loads the same ones."""
    return local_settings.PYTHON_IMAGE, local_settings.BUSYBOX_IMAGE


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def resolve(wanted: Wanted) -> Target:
    choice = wanted.cluster or os.environ.get("E2E_CLUSTER") or None
    if choice is not None and choice not in CLUSTERS:
        raise NoCluster(f"E2E_CLUSTER={choice}: expected one of {', '.join(CLUSTERS)}")
    explicit = wanted.kubeconfig or os.environ.get("PODNET_E2E_KUBECONFIG") or os.environ.get("KUBECONFIG")
    if choice == "local":
        local = local_cluster()
        if local is None:
            raise NoCluster("E2E_CLUSTER=local but the local cluster is not up: "
                            "python3 -m testbeds.localcluster up")
        return _local_target(wanted, local)
    if choice == "kind":
        kubeconfig = kind_cluster()
        if kubeconfig is None:
            raise NoCluster("E2E_CLUSTER=kind but the kind cluster is not up: python3 -m testbeds.kindcluster up")
        return _kind_target(wanted, kubeconfig)
    if explicit:
        path = explicit.split(os.pathsep)[0]
        if not Path(path).is_file():
            raise NoCluster(f"the kubeconfig {path} does not exist")
        local = local_cluster()
        if local and _same_file(path, local[0]):
            return _local_target(wanted, local)
        kind = kind_cluster()
        if kind and _same_file(path, kind):
            return _kind_target(wanted, kind)
        return Target(
            source="kubeconfig",
            kubeconfig=path,
            kubectl=wanted.kubectl or shutil.which("kubectl") or "kubectl",
            agent_image=wanted.agent_image,
            workload_image=wanted.workload_image or DEFAULT_WORKLOAD_IMAGE,
        )
    raise NoCluster(
        "no cluster chosen: set E2E_CLUSTER=local (python3 -m testbeds.localcluster up) or "
        "E2E_CLUSTER=kind (python3 -m testbeds.kindcluster up), or pass --kubeconfig / set KUBECONFIG"
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


def _kind_target(wanted: Wanted, kubeconfig: str) -> Target:
    """The kind cluster's nodes hold the local cluster's images (kindcluster loads them)."""
    agent, workload = local_images()
    return Target(
        source="kindcluster",
        kubeconfig=kubeconfig,
        kubectl=wanted.kubectl or shutil.which("kubectl") or "kubectl",
        agent_image=wanted.agent_image or agent,
        workload_image=wanted.workload_image or workload,
    )


def with_outer_network(argv: list[str]) -> list[str]:
    """`argv` run in the netns `python3 -m testbeds.kindcluster run` was called from, when we
    run inside the kind cluster's (which reaches the API server and nothing else: no DNS, no
    PyPI, no Go proxy); as it is anywhere else."""
    outer = os.environ.get("PODNET_OUTER_NETNS")
    return ["nsenter", f"--net={outer}", "--", *argv] if outer else argv


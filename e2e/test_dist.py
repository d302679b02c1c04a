"""The release files as a user gets them: the single file under a bare python3, krew, completion.

The archive for this machine is unpacked into an empty directory and run by
`env -i PATH=/usr/bin:/bin HOME=<empty> python3` (no venv, no pip, nothing installed: the
test first proves that python3 cannot import our dependencies). krew is built from its Go
module and installs the archive with the manifest into a throwaway KREW_ROOT, and kubectl
finds the plugin on PATH. kubectl's own plugin completion completes a pod name through
`kubectl_complete-podnet`, both the console script pip installs and the single file
reached by a symlink of that name.

The files come from PODNET_E2E_DIST (a dist/ that scripts/dist.sh built) or, without it,
from a build of this machine's platform into a temp directory (needs PyPI or the wheel
cache in build/dist-cache). krew needs `go` (built once into build/dist-cache/gobin). On
kind both builds step out of the cluster's netns, which has no way to PyPI or Go modules.
"""

from __future__ import annotations

import fcntl
import os
import platform
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e import clusters
from e2e import workloads as w
from e2e.clients import Kubectl, Run, _run
from e2e.reports import checks, mtu_is_fine_here, report_of, statuses

REPO = Path(__file__).resolve().parent.parent
KREW = "sigs.k8s.io/krew/cmd/krew@v0.4.3"
BARE_PATH = "/usr/bin:/bin"
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
PLATFORM = f"{sys.platform}-{_ARCH.get(platform.machine().lower(), platform.machine())}"
CACHE = Path(os.environ.get("PODNET_DIST_CACHE") or REPO / "build" / "dist-cache")


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("PODNET_E2E_DIST")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("dist")
    built = _run(clusters.with_outer_network([sys.executable, str(REPO / "scripts" / "dist_build.py"), "--out",
                                              str(out), "--platform", PLATFORM]), None, 900)
    assert built.code == 0, built.describe()
    return out


def _version() -> str:
    from kubectl_podnet import __version__

    return __version__


@pytest.fixture(scope="module")
def archive(dist_dir: Path) -> Path:
    os_name, arch = PLATFORM.split("-")
    found = dist_dir / f"kubectl-podnet_v{_version()}_{os_name}_{arch}.tar.gz"
    assert found.is_file(), f"no {found.name} in {dist_dir}: run scripts/dist.sh"
    return found


@pytest.fixture
def unpacked(archive: Path, tmp_path: Path) -> Path:
    where = tmp_path / "unpacked"
    where.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(where, filter="data")
    assert sorted(p.name for p in where.iterdir()) == ["LICENSE", "kubectl-podnet"]
    return where


def bare(unpacked: Path, *args: str, timeout: float = 240) -> Run:
    """`env -i PATH=/usr/bin:/bin HOME=<empty> python3 ./kubectl-podnet ARGS` from the unpacked dir."""
    home = unpacked.parent / "home"
    home.mkdir(exist_ok=True)
    argv = ["env", "-i", f"PATH={BARE_PATH}", f"HOME={home}", "python3", "./kubectl-podnet", *args]
    done = subprocess.run(argv, cwd=unpacked, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(argv, done.returncode, done.stdout, done.stderr, 0.0)


@pytest.fixture(scope="module")
def bare_python() -> str:
    """The system python3 a user has: >= 3.11, and without our dependencies (else we prove nothing)."""
    env = {"PATH": BARE_PATH}
    version = subprocess.run(["python3", "-c", "import sys; print(sys.version_info >= (3, 11), sys.version.split()[0])"],
                             env=env, capture_output=True, text=True, check=False)
    ok, _, number = version.stdout.strip().partition(" ")
    assert ok == "True", f"python3 on {BARE_PATH} is {number or 'missing'}: the single file needs >= 3.11"
    for module in ("kubectl_podnet", "kubernetes", "typer", "pyroute2"):
        found = subprocess.run(["python3", "-c", f"import {module}"], env=env, cwd="/", capture_output=True,
                               check=False)
        assert found.returncode != 0, f"python3 on {BARE_PATH} can import {module}: the test would prove nothing"
    return number


def test_single_file_runs_version_under_a_bare_python3(unpacked: Path, bare_python: str) -> None:
    first = bare(unpacked, "version")
    assert (first.code, first.stdout, first.stderr) == (0, f"kubectl-podnet {_version()}\n", ""), first.describe()
    # the second run finds the unpacked tree (one per Python minor) and uses it
    again = bare(unpacked, "version")
    assert again.code == 0 and again.stdout == first.stdout
    trees = list((unpacked.parent / "home" / ".cache" / "kubectl-podnet" / "bundle").iterdir())
    minor = "cp" + "".join(bare_python.split(".")[:2])
    assert [t.name.rsplit("-", 1)[1] for t in trees] == [minor] and (trees[0] / ".complete").is_file()


@pytest.fixture
def privileged_lock() -> Iterator[None]:
    """The lab shares netns names and cgroups with the privileged tests: one at a time."""
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (netns, veth, cgroups)")
    with open("/tmp/podnet-privileged.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def test_single_file_runs_the_lab_under_a_bare_python3(unpacked: Path, bare_python: str, privileged_lock: None) -> None:
    lab = bare(unpacked, "lab", "-o", "json", timeout=300)
    assert lab.code == 0, lab.describe()
    document = lab.json()  # the lab prints its node's map, which holds the pod's whole report
    assert document["kind"] == "PodNetNodeMap", document.get("kind")
    (report,) = document["pods"]
    assert report["kind"] == "PodNetReport" and report["verdict"] == "pass", report["checks"]
    assert statuses(report) == dict.fromkeys(statuses(report), "pass"), report["checks"]


def test_single_file_inspects_a_pod_under_a_bare_python3(
    unpacked: Path, bare_python: str, target: clusters.Target, kubectl: Kubectl, namespace: str, image: str
) -> None:
    kubectl.apply(w.pod("web", [w.server("server", image, 8080)]), namespace=namespace)
    kubectl.wait_ready(namespace, "web")
    args = ["inspect", "web", "-n", namespace, "-o", "json", "--timeout", "120", "--kubeconfig", target.kubeconfig]
    if target.agent_image:
        args += ["--agent-image", target.agent_image]
    report = report_of(bare(unpacked, *args), 0)
    # mtu may warn where the node's uplink is smaller than eth0 (the local cluster: 1400 < 1500)
    others = {k: v for k, v in statuses(report).items() if k != "mtu"}
    assert others == dict.fromkeys(others, "pass"), report["checks"]
    assert mtu_is_fine_here(report), checks(report)["mtu"]
    assert report["pod"]["name"] == "web"


# ------------------------------------------------------------------ krew and kubectl


@pytest.fixture(scope="module")
def krew() -> Path:
    binary = CACHE / "gobin" / "krew"
    if not binary.is_file():
        env = {**os.environ, "GOBIN": str(binary.parent)}
        built = subprocess.run(clusters.with_outer_network(["nice", "go", "install", KREW]), env=env,
                               capture_output=True, text=True, timeout=900, check=False)
        assert built.returncode == 0, f"go install {KREW} failed:\n{built.stderr[-2000:]}"
    return binary


def test_krew_installs_the_archive_and_kubectl_runs_the_plugin(
    krew: Path, dist_dir: Path, archive: Path, target: clusters.Target, tmp_path: Path
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "kubectl-krew").symlink_to(krew)
    krew_root = tmp_path / "krew"
    env = {"PATH": f"{krew_root / 'bin'}:{tools}:{BARE_PATH}", "HOME": str(tmp_path), "KREW_ROOT": str(krew_root)}

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([target.kubectl, *args], env=env, capture_output=True, text=True, timeout=300,
                              check=False)

    install = kubectl("krew", "install", f"--manifest={dist_dir / 'podnet.yaml'}", f"--archive={archive}")
    assert install.returncode == 0, install.stderr
    assert (krew_root / "bin" / "kubectl-podnet").is_symlink()
    version = kubectl("podnet", "version")
    assert (version.returncode, version.stdout) == (0, f"kubectl-podnet {_version()}\n"), version.stderr
    assert "kubectl-podnet" in kubectl("plugin", "list").stdout
    # (no `krew uninstall`: it wants krew's plugin index, a git clone; KREW_ROOT goes with tmp_path)


def _complete_with(
    completer: Path, plugin: Path, kubectl_binary: str, kubeconfig: str, tmp_path: Path, *words: str
) -> subprocess.CompletedProcess[str]:
    """kubectl's real plugin completion, with kubectl-podnet and kubectl_complete-podnet on PATH."""
    tools = tmp_path / f"path-{completer.parent.name}"
    tools.mkdir(parents=True)
    (tools / "kubectl-podnet").symlink_to(plugin)
    (tools / "kubectl_complete-podnet").symlink_to(completer)
    env = {"PATH": f"{tools}:{BARE_PATH}", "HOME": str(tmp_path), "KUBECONFIG": kubeconfig}
    return subprocess.run([kubectl_binary, "__complete", "podnet", *words], env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_kubectl_completes_a_pod_name_through_the_plugin_completion(
    target: clusters.Target, kubectl: Kubectl, namespace: str, image: str, unpacked: Path, bare_python: str,
    tmp_path: Path,
) -> None:
    kubectl.apply(w.pod("web-completed", [w.idle("idle", image)]), namespace=namespace)
    console = Path(sys.executable).with_name("kubectl_complete-podnet")
    assert console.is_file(), "kubectl_complete-podnet is not installed next to this Python: pip install -e ."
    single = unpacked / "kubectl-podnet"
    for completer, plugin in ((console, Path(sys.executable).with_name("kubectl-podnet")), (single, single)):
        done = _complete_with(completer, plugin, target.kubectl, target.kubeconfig, tmp_path,
                              "inspect", "-n", namespace, "web-")
        lines = done.stdout.splitlines()
        assert done.returncode == 0 and lines[:1] == ["web-completed"], (completer, done.stdout, done.stderr)
        assert lines[-1] == ":4", done.stdout
        verbs = _complete_with(completer, plugin, target.kubectl, target.kubeconfig, tmp_path / "v", "")
        assert {"inspect", "agent", "completion"} <= {line.split("\t")[0] for line in verbs.stdout.splitlines()}

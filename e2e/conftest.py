"""The e2e tier's switches and fixtures.

Opt-in: without `--e2e` (or PODNET_E2E=1) every test here is skipped with the reason, so
`pytest` stays a fast unit run. With it, a missing cluster is a failure, not a skip: every
test errors with the reason, since an e2e run that tested nothing must not look green.
Each test gets its own namespace; when it fails, the namespace's pods and events, the
agent's pods and logs and every plugin run (its JSON included) are printed and written
under the artifacts directory.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from e2e import clusters
from e2e.clients import Kubectl, Podnet
from e2e.leftovers import AGENT_NAMESPACE, AGENT_SELECTOR, Snapshot

HERE = Path(__file__).resolve().parent
RUN_LABEL = "podnet-e2e/run"
RUN_ID = secrets.token_hex(3)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("podnet-e2e", "kubectl-podnet end-to-end tier")
    group.addoption("--e2e", action="store_true", default=_env_flag("PODNET_E2E"),
                    help="run the e2e tests against a real cluster (env PODNET_E2E=1)")
    group.addoption("--kubeconfig", default=None,
                    help="cluster to test (env PODNET_E2E_KUBECONFIG or KUBECONFIG); or choose one of ours "
                    "with E2E_CLUSTER=local|kind")
    group.addoption("--kubectl", default=os.environ.get("PODNET_E2E_KUBECTL"),
                    help="kubectl binary (env PODNET_E2E_KUBECTL)")
    group.addoption("--agent-image", default=os.environ.get("PODNET_E2E_AGENT_IMAGE"),
                    help="agent image passed to the plugin (env PODNET_E2E_AGENT_IMAGE)")
    group.addoption("--workload-image", default=os.environ.get("PODNET_E2E_WORKLOAD_IMAGE"),
                    help="busybox-like image with sh, httpd, nc, sleep (env PODNET_E2E_WORKLOAD_IMAGE)")
    group.addoption("--keep-cluster", action="store_true", default=_env_flag("PODNET_E2E_KEEP_CLUSTER"),
                    help="keep the agent installed at the end (env PODNET_E2E_KEEP_CLUSTER=1)")
    group.addoption("--artifacts", default=os.environ.get("PODNET_E2E_ARTIFACTS"),
                    help="where failure dumps go (env PODNET_E2E_ARTIFACTS; default a temp dir)")


def _is_ours(item: pytest.Item) -> bool:
    # only this directory's tests, never a subdirectory's
    return Path(str(item.fspath)).resolve().parent == HERE


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="e2e: needs a real cluster; run `e2e/run.sh` or `pytest e2e/ --e2e`")
    for item in items:
        if _is_ours(item):
            item.add_marker(pytest.mark.e2e)
            if not config.getoption("--e2e"):
                item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


# ------------------------------------------------------------------ the cluster


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[clusters.Target]:
    opt = request.config.getoption
    wanted = clusters.Wanted(
        kubeconfig=opt("--kubeconfig"),
        kubectl=opt("--kubectl"),
        agent_image=opt("--agent-image"),
        workload_image=opt("--workload-image"),
        keep_cluster=opt("--keep-cluster"),
    )
    try:
        found = clusters.resolve(wanted)
    except clusters.NoCluster as exc:
        problem = str(exc)
    else:
        problem = ""
    if problem:
        pytest.fail(f"e2e: {problem}", pytrace=False)
    print(found.describe())
    kubectl = Kubectl(found.kubectl, found.kubeconfig)
    reach = kubectl("get", "--raw", "/readyz", check=False, timeout=30)
    if reach.code != 0:
        pytest.fail(f"e2e: the cluster in {found.kubeconfig} does not answer: {reach.stderr.strip()[-400:]}",
                    pytrace=False)
    yield found
    _clean_session(kubectl, found, keep=opt("--keep-cluster"))


def _clean_session(kubectl: Kubectl, found: clusters.Target, keep: bool) -> None:
    # namespaces a crashed test could not delete
    kubectl("delete", "namespace", "-l", f"{RUN_LABEL}={RUN_ID}", "--ignore-not-found", "--wait=false", check=False)
    if not keep:
        Podnet(found.kubeconfig)("agent", "uninstall", "--timeout", "120")


@pytest.fixture(scope="session")
def kubectl(target: clusters.Target) -> Kubectl:
    return Kubectl(target.kubectl, target.kubeconfig)


@pytest.fixture(scope="session")
def image(target: clusters.Target) -> str:
    """The busybox-like workload image."""
    return target.workload_image


@pytest.fixture
def podnet(target: clusters.Target) -> Podnet:
    """The plugin, bound to the target; its runs are dumped if the test fails."""
    return Podnet(target.kubeconfig, target.agent_image)


@pytest.fixture
def agent_ready(kubectl: Kubectl, podnet: Podnet) -> None:
    """The agent DaemonSet installed and ready on every node."""
    install = podnet("agent", "install")
    assert install.code == 0, install.describe()
    kubectl("rollout", "status", "-n", AGENT_NAMESPACE, "daemonset/podnet-agent", "--timeout=180s", timeout=200)


# ------------------------------------------------------------------ one namespace per test


def _namespace_name(nodeid: str) -> str:
    test = nodeid.rsplit("::", 1)[-1]
    slug = re.sub(r"[^a-z0-9]+", "-", test.lower().removeprefix("test_")).strip("-")[:40].strip("-")
    return f"e2e-{slug}-{RUN_ID}"


@pytest.fixture
def namespace(request: pytest.FixtureRequest, kubectl: Kubectl, podnet: Podnet) -> Iterator[str]:
    name = _namespace_name(request.node.nodeid)
    kubectl.create_namespace(name, f"{RUN_LABEL}={RUN_ID}")
    yield name
    item = request.node
    failed = any(getattr(getattr(item, f"report_{when}", None), "failed", False) for when in ("setup", "call"))
    if failed:
        _dump(request.config, item.nodeid, name, kubectl, podnet)
    kubectl("delete", "namespace", name, "--wait=true", "--timeout=120s", check=False, timeout=150)


def _artifacts(config: pytest.Config) -> Path:
    root = config.getoption("--artifacts") or os.path.join(tempfile.gettempdir(), "podnet-e2e-artifacts")
    return Path(root)


def _dump(config: pytest.Config, nodeid: str, namespace: str, kubectl: Kubectl, podnet: Podnet) -> None:
    """Everything needed to see why a scenario failed, printed and saved."""
    sections: list[tuple[str, str]] = []

    def capture(title: str, *args: str) -> None:
        run = kubectl(*args, check=False, timeout=60)
        sections.append((title, (run.stdout + run.stderr).rstrip()))

    capture("pods", "get", "pods", "-n", namespace, "-o", "wide")
    capture("pod events", "get", "events", "-n", namespace, "--sort-by=.lastTimestamp")
    capture("pods described", "describe", "pods", "-n", namespace)
    capture("agent pods", "get", "pods", "-n", AGENT_NAMESPACE, "-o", "wide")
    capture("agent events", "get", "events", "-n", AGENT_NAMESPACE, "--sort-by=.lastTimestamp")
    capture("agent logs", "logs", "-n", AGENT_NAMESPACE, "-l", AGENT_SELECTOR, "--all-containers",
            "--prefix", "--tail=200")
    for number, run in enumerate(podnet.history, 1):
        sections.append((f"plugin run {number}", run.describe()))
    text = "".join(f"\n===== {title} =====\n{body}\n" for title, body in sections)
    folder = _artifacts(config) / re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dump.txt").write_text(text)
    for number, run in enumerate(podnet.history, 1):
        if run.stdout.lstrip().startswith("{"):
            (folder / f"plugin-run-{number}.json").write_text(run.stdout)
    print(f"\n[e2e] failure dump for {nodeid} (saved in {folder}):{text}")


# ------------------------------------------------------------------ helpers the tests share


@pytest.fixture
def ours_in_cluster(kubectl: Kubectl) -> Snapshot:
    return Snapshot(kubectl)

"""`kubectl podnet inspect POD`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.cluster_opts import AgentImage, AgentNamespace, Context, Kubeconfig
from kubectl_podnet.cli.output import Format, emit, emit_many, renderer
from kubectl_podnet.cli.progress import ProgressLine, SweepBar
from kubectl_podnet.cluster.inspect_pods import MAX_PARALLEL
from kubectl_podnet.errors import PodnetError
from kubectl_podnet.outcome import verdicts_only

if TYPE_CHECKING:
    from kubectl_podnet.cluster.agent import AgentManager


def inspect(
    pods: Annotated[
        Optional[list[str]], typer.Argument(metavar="POD...", help="pod name(s) (or pod/NAME)", show_default=False)
    ] = None,
    selector: Annotated[
        Optional[str], typer.Option("-l", "--selector", help="every pod matching this label selector")
    ] = None,
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", help="default: the context's")] = None,
    all_namespaces: Annotated[
        bool, typer.Option("-A", "--all-namespaces", help="sweep: every pod of every namespace")
    ] = False,
    every_pod: Annotated[bool, typer.Option("--all", help="sweep: every pod of the namespace (-n)")] = False,
    node: Annotated[
        Optional[str], typer.Option("--node", help="sweep: every pod on this node (any namespace unless -n)")
    ] = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Annotated[Format, typer.Option("-o", "--output")] = Format.text,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="seconds each node may take (its agent's start and its exec)")
    ] = 90,
    agent_image: AgentImage = None,
    agent_namespace: AgentNamespace = None,
    no_install: Annotated[bool, typer.Option("--no-install", help="fail if the agent is not installed")] = False,
    cleanup: Annotated[
        bool, typer.Option("--cleanup", help="uninstall the agent afterwards if this run installed it")
    ] = False,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress on stderr")] = False,
    max_parallel: Annotated[
        int, typer.Option("--max-parallel", min=1, max=64, help="nodes whose agents run at the same time")
    ] = MAX_PARALLEL,
) -> None:
    """Prove the pod-network model for pods, from inside their nodes.

    One POD prints its report. Several PODs, or a sweep (-l, --all, -A, --node, combinable),
    print a table (or a list with -o json|yaml, JUnit XML with -o junit): one agent exec per
    node, nodes in parallel. A sweep lists pods that are not running as skipped; they never
    fail it. The exit code is the worst of all pods.
    """
    from kubectl_podnet.cluster import names as rules
    from kubectl_podnet.cluster.inspect_pods import inspect_pod, inspect_pods
    from kubectl_podnet.cluster.selection import Selection
    from kubectl_podnet.errors import UsageError

    names = [rules.pod_argument(pod) for pod in pods or []]
    sweeping = bool(selector or all_namespaces or every_pod or node)
    if not names and not sweeping:
        raise UsageError("name a pod (or several), or select pods with -l, --all, -A or --node")
    if names and sweeping:
        raise UsageError("give pod names or a selection (-l, --all, -A, --node), not both")
    if all_namespaces and namespace is not None:
        raise UsageError("-A is every namespace: drop -n, or drop -A")
    if namespace is not None:
        rules.namespace(namespace)
    if node is not None:
        rules.node_name(node)
    cluster, agents, progress = cluster_opts.agent_session(kubeconfig, context, timeout, agent_namespace, agent_image,
                                                           quiet)
    # --node alone and -A look everywhere; anything else in one namespace, the context's by default
    everywhere = all_namespaces or (node is not None and namespace is None and not every_pod and not selector)
    ns = None if everywhere else (namespace or cluster.default_namespace)
    bar = SweepBar(progress)
    left_behind: PodnetError | None = None
    try:
        if len(names) == 1:
            report = inspect_pod(cluster, ns or "", names[0], agents, timeout, not no_install, progress)
        else:
            selection = Selection(ns, tuple(names), selector, node)
            facts = renderer(output).facts or show_commands
            outcomes = inspect_pods(cluster, selection, agents, timeout, not no_install, progress,
                                    max_parallel=max_parallel, tally=bar, keep=None if facts else verdicts_only)
    finally:
        bar.close()
        if cleanup:
            left_behind = _cleanup(agents, timeout, progress)
        progress.done()
    status = emit(report, output, show_commands) if len(names) == 1 else emit_many(outcomes, output, show_commands)
    if left_behind is not None:  # the results still print; the failed cleanup is said and counted
        sys.stderr.write(f"kubectl-podnet: error: --cleanup: {left_behind.one_line()}\n")
        status = max(status, left_behind.exit_status)
    raise typer.Exit(int(status))


def _cleanup(agents: AgentManager, timeout: float, progress: ProgressLine) -> PodnetError | None:
    """--cleanup: uninstall the agent if this run installed it, and only then."""
    if not agents.created:
        progress(f"--cleanup: the podnet agent in {agents.namespace} was there before this run; left as it is")
        return None
    progress(f"--cleanup: removing the podnet agent this run installed in {agents.namespace}")
    try:
        for line in agents.uninstall(timeout):
            progress(line)
    except PodnetError as exc:
        return exc
    return None


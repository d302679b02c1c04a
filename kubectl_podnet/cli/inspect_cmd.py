"""`kubectl podnet inspect POD`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.cluster_opts import DEFAULTS, AgentImage, AgentNamespace, Context, Kubeconfig
from kubectl_podnet.cli.output import Format, emit, emit_many
from kubectl_podnet.cli.progress import ProgressLine


def inspect(
    pods: Annotated[
        Optional[list[str]], typer.Argument(metavar="POD...", help="pod name(s) (or pod/NAME)", show_default=False)
    ] = None,
    selector: Annotated[
        Optional[str], typer.Option("-l", "--selector", help="every pod matching this label selector")
    ] = None,
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", help="default: the context's")] = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Annotated[Format, typer.Option("-o", "--output")] = Format.text,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="seconds to wait for the agent")] = 90,
    agent_image: AgentImage = None,
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
    no_install: Annotated[bool, typer.Option("--no-install", help="fail if the agent is not installed")] = False,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress on stderr")] = False,
    max_parallel: Annotated[
        int, typer.Option("--max-parallel", min=1, max=64, help="nodes whose agents run at the same time")
    ] = 8,
) -> None:
    """Prove the pod-network model for pods, from inside their nodes.

    One POD prints its report; several PODs or -l print a list (one agent exec per node).
    """
    from kubectl_podnet.cluster import names as rules
    from kubectl_podnet.cluster.agent import AgentManager
    from kubectl_podnet.cluster.inspect import inspect_pod, inspect_pods
    from kubectl_podnet.errors import UsageError

    names = [_pod_name(pod) for pod in pods or []]
    if not names and not selector:
        raise UsageError("name a pod (or several), or select pods with -l")
    if names and selector:
        raise UsageError("give pod names or -l, not both")
    if namespace is not None:
        rules.namespace(namespace)
    agent_namespace, agent_image = cluster_opts.checked_agent(agent_namespace, agent_image)
    cluster = cluster_opts.connect(kubeconfig, context, timeout)
    progress = ProgressLine(quiet=quiet)
    agents = AgentManager(cluster, agent_namespace, agent_image, progress)
    ns = namespace or cluster.default_namespace
    try:
        if len(names) == 1:
            report = inspect_pod(cluster, ns, names[0], agents, timeout, not no_install, progress)
        else:
            outcomes = inspect_pods(cluster, ns, names, selector, agents, timeout, not no_install, progress,
                                    max_parallel=max_parallel)
    finally:
        progress.done()
    if len(names) == 1:
        raise typer.Exit(int(emit(report, output, show_commands)))
    raise typer.Exit(int(emit_many(outcomes, output, show_commands)))


def _pod_name(text: str) -> str:
    from kubectl_podnet.cluster import names

    return names.pod_name(text.split("/", 1)[1] if text.startswith(("pod/", "pods/")) else text)

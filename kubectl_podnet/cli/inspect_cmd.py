"""`kubectl podnet inspect POD`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.cluster_opts import DEFAULTS, AgentImage, AgentNamespace, Context, Kubeconfig
from kubectl_podnet.cli.output import Format, emit
from kubectl_podnet.cli.progress import ProgressLine


def inspect(
    pod: Annotated[str, typer.Argument(metavar="POD", help="pod name (or pod/NAME)")],
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", help="default: the context's")] = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Annotated[Format, typer.Option("-o", "--output")] = Format.text,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="seconds to wait for the agent")] = 90,
    agent_image: AgentImage = DEFAULTS["agent_image"],
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
    no_install: Annotated[bool, typer.Option("--no-install", help="fail if the agent is not installed")] = False,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress on stderr")] = False,
) -> None:
    """Prove the pod-network model for one pod, from inside its node."""
    from kubectl_podnet.cluster.agent import AgentManager
    from kubectl_podnet.cluster.inspect import inspect_pod
    from kubectl_podnet.errors import UsageError

    name = pod.split("/", 1)[1] if pod.startswith(("pod/", "pods/")) else pod
    if not name or "/" in name:
        raise UsageError(f"{pod!r} is not a pod name")
    cluster = cluster_opts.connect(kubeconfig, context)
    progress = ProgressLine(quiet=quiet)
    try:
        agents = AgentManager(cluster, agent_namespace, agent_image, progress)
        run = inspect_pod(
            cluster, namespace or cluster.default_namespace, name, agents, timeout, not no_install, progress
        )
    finally:
        progress.done()
    raise typer.Exit(int(emit(run.report, output, show_commands)))

"""`kubectl podnet agent install|status|uninstall`."""

from __future__ import annotations

from typing import Annotated

import typer

from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.cluster_opts import DEFAULTS, AgentImage, AgentNamespace, Context, Kubeconfig
from kubectl_podnet.cli.progress import ProgressLine

app = typer.Typer(help="Manage the privileged node agent DaemonSet.", no_args_is_help=True)


@app.command("install")
def install(
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    agent_image: AgentImage = DEFAULTS["agent_image"],
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
    print_only: Annotated[bool, typer.Option("--print-only", help="print the manifests, apply nothing")] = False,
) -> None:
    """Install (or update) the agent DaemonSet."""
    from kubectl_podnet.cluster.agent import AgentManager
    from kubectl_podnet.cluster.manifests import agent_objects, render_yaml

    if print_only:
        typer.echo(render_yaml(agent_objects(agent_namespace, agent_image)), nl=False)
        return
    manager = AgentManager(cluster_opts.connect(kubeconfig, context), agent_namespace, agent_image)
    for line in manager.install():
        typer.echo(line)


@app.command("status")
def status(
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
) -> None:
    """Show the DaemonSet and its pods."""
    from kubectl_podnet.cluster.agent import AgentManager

    for line in AgentManager(cluster_opts.connect(kubeconfig, context), agent_namespace).status():
        typer.echo(line)


@app.command("uninstall")
def uninstall(
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
    timeout: Annotated[float, typer.Option("--timeout", min=1)] = 120,
) -> None:
    """Remove every object the plugin created, and wait until they are gone."""
    from kubectl_podnet.cluster.agent import AgentManager

    progress = ProgressLine()
    try:
        done = AgentManager(cluster_opts.connect(kubeconfig, context), agent_namespace, progress=progress).uninstall(timeout)
    finally:
        progress.done()
    typer.echo("\n".join(done) if done else "nothing to uninstall")

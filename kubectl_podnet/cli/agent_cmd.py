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
    agent_image: AgentImage = None,
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
    print_only: Annotated[bool, typer.Option("--print-only", help="print the manifests, apply nothing")] = False,
) -> None:
    """Install the agent DaemonSet, upgrade it, or switch its image (the one way to change it).

    Without --agent-image an installed agent keeps its image.
    """
    from kubectl_podnet.cluster.agent import AgentManager
    from kubectl_podnet.cluster.manifests import DEFAULT_IMAGE, agent_objects, render_yaml

    agent_namespace, agent_image = cluster_opts.checked_agent(agent_namespace, agent_image)
    if print_only:
        typer.echo(render_yaml(agent_objects(agent_namespace, agent_image or DEFAULT_IMAGE)), nl=False)
        return
    manager = AgentManager(cluster_opts.connect(kubeconfig, context), agent_namespace, agent_image)
    for line in manager.install():
        typer.echo(line)


@app.command("rbac")
def rbac(
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
    group: Annotated[str, typer.Option("--group", help="the group to bind (users or service accounts in it)")] = (
        "podnet-inspectors"
    ),
) -> None:
    """Print the least-privilege RBAC for users who only inspect (kubectl apply -f - it)."""
    from kubectl_podnet.cluster.manifests import inspect_rbac_objects, render_yaml

    agent_namespace, _ = cluster_opts.checked_agent(agent_namespace, None)
    if not group.strip():
        from kubectl_podnet.errors import UsageError

        raise UsageError("--group must name a group")
    typer.echo(render_yaml(inspect_rbac_objects(agent_namespace, group)), nl=False)


@app.command("status")
def status(
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    agent_namespace: AgentNamespace = DEFAULTS["agent_namespace"],
) -> None:
    """Show the DaemonSet and its pods."""
    from kubectl_podnet.cluster.agent import AgentManager

    cluster_opts.checked_agent(agent_namespace, None)
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

    cluster_opts.checked_agent(agent_namespace, None)
    progress = ProgressLine()
    try:
        done = AgentManager(cluster_opts.connect(kubeconfig, context), agent_namespace, progress=progress).uninstall(timeout)
    finally:
        progress.done()
    typer.echo("\n".join(done) if done else "nothing to uninstall")

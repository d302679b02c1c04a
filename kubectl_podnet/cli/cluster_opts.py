"""The options every cluster verb shares (kubectl does not forward its global flags)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Optional

import typer

from kubectl_podnet.cluster.manifests import DEFAULT_IMAGE, DEFAULT_NAMESPACE
from kubectl_podnet.cluster.port import ClusterPort

if TYPE_CHECKING:
    from kubectl_podnet.cli.progress import ProgressLine
    from kubectl_podnet.cluster.agent import AgentManager

Kubeconfig = Annotated[Optional[str], typer.Option("--kubeconfig", help="path to the kubeconfig file")]
Context = Annotated[Optional[str], typer.Option("--context", help="kubeconfig context to use")]
AgentImage = Annotated[
    Optional[str],
    typer.Option(
        "--agent-image",
        help="Python >= 3.11 image for the agent (a mirror, air-gapped); default: $PODNET_AGENT_IMAGE, the config "
        f"file's agentImage, the installed agent's, else {DEFAULT_IMAGE}",
        show_default=False,
    ),
]
AgentNamespace = Annotated[
    Optional[str],
    typer.Option(
        "--agent-namespace",
        help="namespace of the agent DaemonSet; default: $PODNET_AGENT_NAMESPACE, the config file's agentNamespace, "
        f"else {DEFAULT_NAMESPACE}",
        show_default=False,
    ),
]


def checked_agent(agent_namespace: str | None, agent_image: str | None) -> tuple[str, str | None]:
    """The agent's namespace and image: the flag, else the environment, else the config file
    (kubectl_podnet.cli.config), each refused in one line naming its source when it breaks the API's rules."""
    import os

    from kubectl_podnet.cluster import names
    from kubectl_podnet.cli.config import agent_settings

    settings = agent_settings(agent_image, agent_namespace, os.environ)
    namespace = DEFAULT_NAMESPACE
    if settings.namespace is not None:
        namespace = names.namespace(settings.namespace.value, settings.namespace.source)
    image = None
    if settings.image is not None:
        image = names.image_reference(settings.image.value, settings.image.source)
    return namespace, image


def connect(kubeconfig: str | None, context: str | None, timeout: float | None = None) -> ClusterPort:
    """The real cluster; tests swap this one function for a fake of the same port.

    Each API call waits at most `timeout` (capped at the adapter's own 20 s), once."""
    from kubectl_podnet.cluster.kube import REQUEST_TIMEOUT, KubeCluster

    limit = REQUEST_TIMEOUT if timeout is None else min(timeout, REQUEST_TIMEOUT)
    return KubeCluster(kubeconfig=kubeconfig, context=context, request_timeout=limit)


def agent_session(kubeconfig: str | None, context: str | None, timeout: float | None, agent_namespace: str | None,
                  agent_image: str | None, quiet: bool) -> tuple[ClusterPort, AgentManager, ProgressLine]:
    """What every verb that runs the agent starts from: the cluster, its shared agent, the progress line."""
    from kubectl_podnet.cli.progress import ProgressLine
    from kubectl_podnet.cluster.agent import AgentManager

    agent_namespace, agent_image = checked_agent(agent_namespace, agent_image)
    cluster = connect(kubeconfig, context, timeout)
    progress = ProgressLine(quiet=quiet)
    return cluster, AgentManager(cluster, agent_namespace, agent_image, progress), progress

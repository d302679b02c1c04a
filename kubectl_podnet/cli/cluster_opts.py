"""The options every cluster verb shares (kubectl does not forward its global flags)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_podnet.cluster.manifests import DEFAULT_IMAGE, DEFAULT_NAMESPACE
from kubectl_podnet.cluster.port import ClusterPort

Kubeconfig = Annotated[Optional[str], typer.Option("--kubeconfig", help="path to the kubeconfig file")]
Context = Annotated[Optional[str], typer.Option("--context", help="kubeconfig context to use")]
AgentImage = Annotated[
    Optional[str],
    typer.Option(
        "--agent-image",
        help="Python >= 3.11 image for the agent (a mirror, air-gapped); default: the installed agent's, "
        f"else {DEFAULT_IMAGE}",
        show_default=False,
    ),
]
AgentNamespace = Annotated[str, typer.Option("--agent-namespace", help="namespace of the agent DaemonSet")]

DEFAULTS = {"agent_namespace": DEFAULT_NAMESPACE}


def checked_agent(agent_namespace: str, agent_image: str | None) -> tuple[str, str | None]:
    """The agent options, refused in one line when they break the API's rules."""
    from kubectl_podnet.cluster import names

    names.namespace(agent_namespace, "--agent-namespace")
    if agent_image is not None:
        names.image_reference(agent_image)
    return agent_namespace, agent_image


def connect(kubeconfig: str | None, context: str | None, timeout: float | None = None) -> ClusterPort:
    """The real cluster; tests swap this one function for a fake of the same port.

    Each API call waits at most `timeout` (capped at the adapter's own 20 s), once."""
    from kubectl_podnet.cluster.kube import REQUEST_TIMEOUT, KubeCluster

    limit = REQUEST_TIMEOUT if timeout is None else min(timeout, REQUEST_TIMEOUT)
    return KubeCluster(kubeconfig=kubeconfig, context=context, request_timeout=limit)

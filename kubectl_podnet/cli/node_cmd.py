"""`kubectl podnet node inspect` (the agent right here, as root on a node) and `node map`
(a node's whole picture: from the cluster with NODE, or right here as root without)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_podnet.cli.cluster_opts import AgentImage, AgentNamespace, Context, Kubeconfig
from kubectl_podnet.cli.map_output import MapFormat
from kubectl_podnet.cli.output import Format, emit, parse_container
from kubectl_podnet.errors import UsageError
from kubectl_podnet.model import PodNetNodeMap
from kubectl_podnet.node.procfs import NETNS_DIR

app = typer.Typer(help="Run the node agent directly on a Linux node (as root).", no_args_is_help=True)


@app.command("inspect")
def inspect(
    pod_uid: Annotated[str, typer.Option("--pod-uid", help="metadata.uid of the pod")],
    container: Annotated[
        Optional[list[str]],
        typer.Option("--container", help="NAME=ID of a container (repeat); without, ids are reported"),
    ] = None,
    pod_ip: Annotated[Optional[list[str]], typer.Option("--pod-ip", help="an address of status.podIPs (repeat)")] = None,
    host_network: Annotated[
        Optional[bool], typer.Option("--host-network/--no-host-network", help="default: detect it")
    ] = None,
    output: Annotated[Format, typer.Option("-o", "--output")] = Format.text,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
    netns_dir: Annotated[str, typer.Option(help="where the runtime pins netns")] = NETNS_DIR,
) -> None:
    """Inspect one pod's network namespace from this node."""
    import os

    from kubectl_podnet.checks.report import build_report
    from kubectl_podnet.model import ContainerRef, InspectRequest
    from kubectl_podnet.node.gather import inspect_pod, validate

    refs = [ContainerRef(id=cid, name=name) for name, cid in map(parse_container, container or [])]
    request = InspectRequest(pod_uid=pod_uid, containers=refs, pod_ips=pod_ip or [], host_network=host_network)
    validate(request)  # bad input is named before anything else, root or not
    if os.geteuid() != 0:
        raise UsageError("node inspect needs root (it reads other processes' namespaces)")
    status = emit(build_report(inspect_pod(request, netns_dir=netns_dir)), output, show_commands)
    raise typer.Exit(int(status))


@app.command("map")
def map_cmd(
    node: Annotated[
        Optional[str],
        typer.Argument(metavar="NODE", help="the node to map (via the cluster); none: this machine, as root"),
    ] = None,
    output: Annotated[MapFormat, typer.Option("-o", "--output")] = MapFormat.text,
    ascii_only: Annotated[bool, typer.Option("--ascii", help="plain ASCII (the default when not a terminal)")] = False,
    svg: Annotated[Optional[str], typer.Option("--svg", help="also write the picture as SVG (needs Graphviz `dot`)")]
    = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    timeout: Annotated[float, typer.Option("--timeout", min=1, help="seconds to wait for the agent")] = 90,
    agent_image: AgentImage = None,
    agent_namespace: AgentNamespace = None,
    no_install: Annotated[bool, typer.Option("--no-install", help="fail if the agent is not installed")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress on stderr")] = False,
) -> None:
    """Map a node: uplink, bridges, veths, routes and every pod on it, in one agent exec.

    Exit: 0 every pod passes, 1 a pod failed a check, 3 a pod could not be inspected.
    """
    from kubectl_podnet.cli.map_output import emit_map
    from kubectl_podnet.cli.output import terminal_width

    if node is None:
        node_map = _map_here()
    else:
        from kubectl_podnet.cli import cluster_opts
        from kubectl_podnet.cluster.map_request import map_node

        cluster, agents, progress = cluster_opts.agent_session(kubeconfig, context, timeout, agent_namespace,
                                                               agent_image, quiet)
        try:
            node_map = map_node(cluster, node, agents, timeout, not no_install, progress)
        finally:
            progress.done()
    raise typer.Exit(int(emit_map(node_map, output, ascii_only, svg, terminal_width())))


def _map_here() -> PodNetNodeMap:
    """This machine as the node: pods found by their cgroups (no API: uids, no names)."""
    import json
    import os

    from kubectl_podnet.model import InspectRequest, NodeMapRequest
    from kubectl_podnet.node.engine import run
    from kubectl_podnet.node.hostview import running_pod_uids
    from kubectl_podnet.node.procfs import ProcFS
    from kubectl_podnet.checks.nodemap import node_map_from
    from kubectl_podnet.serde import to_json

    if os.geteuid() != 0:
        raise UsageError("node map without NODE maps this machine and needs root (it reads every pod's netns)")
    uids = running_pod_uids(ProcFS())
    request = NodeMapRequest(pods=[InspectRequest(pod_uid=uid) for uid in uids])
    _, envelope = run(json.dumps(to_json(request)))
    return node_map_from(envelope, "this node", None, [(None, f"uid {uid}") for uid in uids])


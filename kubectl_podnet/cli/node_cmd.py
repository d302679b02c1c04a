"""`kubectl podnet node inspect`: run the node agent right here, as root on a node."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_podnet.cli.output import Format, emit, parse_container
from kubectl_podnet.errors import UsageError
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

    from kubectl_podnet.report import build_report
    from kubectl_podnet.model import ContainerRef, InspectRequest
    from kubectl_podnet.node.inspect import inspect_pod, validate

    refs = [ContainerRef(id=cid, name=name) for name, cid in map(parse_container, container or [])]
    request = InspectRequest(pod_uid=pod_uid, containers=refs, pod_ips=pod_ip or [], host_network=host_network)
    validate(request)  # bad input is named before anything else, root or not
    if os.geteuid() != 0:
        raise UsageError("node inspect needs root (it reads other processes' namespaces)")
    status = emit(build_report(inspect_pod(request, netns_dir=netns_dir)), output, show_commands)
    raise typer.Exit(int(status))


"""`kubectl podnet connect SRC DST[:PORT]`."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from kubectl_podnet.cli import cluster_opts
from kubectl_podnet.cli.cluster_opts import AgentImage, AgentNamespace, Context, Kubeconfig
from kubectl_podnet.cli.output import Format, terminal_width
from kubectl_podnet.errors import ExitStatus


def connect(
    source: Annotated[str, typer.Argument(metavar="SRC", help="the pod that connects (or pod/NAME)")],
    target: Annotated[str, typer.Argument(metavar="DST[:PORT]", help="the pod it connects to; :PORT also dials "
                                          "that pod's own listener")],
    namespace: Annotated[Optional[str], typer.Option("-n", "--namespace", help="SRC's namespace (and DST's)")] = None,
    dst_namespace: Annotated[Optional[str], typer.Option("--dst-namespace", help="DST's namespace")] = None,
    kubeconfig: Kubeconfig = None,
    context: Context = None,
    output: Annotated[Format, typer.Option("-o", "--output", help="text, json or yaml")] = Format.text,
    timeout: Annotated[float, typer.Option("--timeout", min=0.5, max=30,
                                           help="seconds the connect itself may take (the listener waits that long)")] = 3,
    agent_timeout: Annotated[float, typer.Option("--agent-timeout", min=1,
                                                 help="seconds for each node's agent to be ready and answer")] = 90,
    agent_image: AgentImage = None,
    agent_namespace: AgentNamespace = None,
    no_install: Annotated[bool, typer.Option("--no-install", help="fail if the agent is not installed")] = False,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="no progress on stderr")] = False,
) -> None:
    """Prove pod A reaches pod B without NAT, hop by hop, from inside both nodes.

    One agent exec per node, in parallel: A's route and its node's forwarding, the tunnel
    or route between the nodes, B's node's delivery, a real TCP connection from inside A to
    a one-off listener inside B (no SNAT, no DNAT), DF probes for the MTU, and the
    NetworkPolicies that select them. Exit 0: every hop passed (warnings allowed); 1: a hop
    failed; 2: bad input; 3: cluster or agent trouble; 4: a bug of ours.
    """
    from kubectl_podnet.cluster import names as rules
    from kubectl_podnet.cluster.connect import connect_pods
    from kubectl_podnet.errors import UsageError
    from kubectl_podnet.render.connect_report import connect_commands, render_connect
    from kubectl_podnet.render.structured import render_json_doc, render_yaml_doc
    from kubectl_podnet.serde import to_json

    if output not in (Format.text, Format.json, Format.yaml):
        raise UsageError("connect prints text, json or yaml")
    name, _, port_text = target.partition(":")
    real_port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise UsageError(f"DST[:PORT]: {port_text!r} is not a port (1-65535)")
        real_port = int(port_text)
    a_name, b_name = rules.pod_argument(source), rules.pod_argument(name)
    for ns in (namespace, dst_namespace):
        if ns is not None:
            rules.namespace(ns)
    cluster, agents, progress = cluster_opts.agent_session(kubeconfig, context, agent_timeout, agent_namespace,
                                                           agent_image, quiet)
    a_ns = namespace or cluster.default_namespace
    b_ns = dst_namespace or a_ns
    try:
        report = connect_pods(cluster, agents, (a_ns, a_name), (b_ns, b_name), real_port, timeout, agent_timeout,
                              not no_install, progress)
    finally:
        progress.done()
    if output is Format.json:
        typer.echo(render_json_doc(to_json(report)), nl=False)
    elif output is Format.yaml:
        typer.echo(render_yaml_doc(to_json(report)), nl=False)
    else:
        typer.echo(render_connect(report, terminal_width()), nl=False)
        if show_commands:
            typer.echo("\nBy hand:\n" + "".join(f"  {line}\n" for line in connect_commands(report)), nl=False)
    raise typer.Exit(int(ExitStatus.of_verdict(report.verdict)))


"""`kubectl podnet lab`: the CKA experiment, built for real on this machine, then inspected."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from kubectl_podnet.cli.output import Format, emit, renderer

app = typer.Typer(help="Build a pod by hand (netns, pause, two containers, veth, bridge) and inspect it.")

PREFIX = "podnet-lab"


@app.callback(invoke_without_command=True)
def lab(
    ctx: typer.Context,
    keep: Annotated[bool, typer.Option("--keep", help="leave the lab up to poke at; remove with `lab clean`")] = False,
    output: Annotated[Format, typer.Option("-o", "--output")] = Format.text,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
) -> None:
    """Needs root; no cluster. Everything lives in netns named podnet-lab-*."""
    if ctx.invoked_subcommand is not None:
        return
    import json

    from kubectl_podnet.envelope import parse_envelope, report_from
    from kubectl_podnet.lab.spec import default_lab_pods, inspect_request
    from kubectl_podnet.lab.world import LabNode, clean, run_agent
    from kubectl_podnet.serde import to_json

    clean(PREFIX)  # a previous --keep run: start from nothing
    node = LabNode(PREFIX, default_lab_pods())
    kept = False
    try:
        node.build()
        log = sys.stdout if renderer(output).for_people else sys.stderr
        log.write("Built (the commands you would type):\n")
        log.write("".join(f"  {' '.join(argv)}\n" for argv in node.commands))
        (pod,) = node.plan.pods
        log.write(
            f"  + pause process and containers {', '.join(pod.container_ids)} joined to netns {pod.netns},\n"
            f"    each in its kubelet-style cgroup (pod uid {pod.uid})\n\n"
        )
        request = inspect_request(node.plan, pod)
        done = run_agent(node.plan.node_netns, json.dumps(to_json(request)))
        where = f"netns {node.plan.node_netns}"
        envelope = parse_envelope(done.stdout, done.stderr, done.returncode, where)
        status = emit(report_from(envelope, where, node.plan.node_netns), output, show_commands)
        if keep:
            log.write(
                f"\nKept. Try: ip netns exec {pod.netns} ip -d link; ip -n {node.plan.node_netns} link show master cni0\n"
                "Remove with: kubectl podnet lab clean\n"
            )
            kept = True
    finally:
        if not kept:  # also after a failure under --keep: a half-built lab is no use
            node.teardown()
    raise typer.Exit(int(status))


@app.command("clean")
def clean_cmd() -> None:
    """Remove every netns, link, cgroup and process a kept lab left."""
    from kubectl_podnet.lab.world import clean

    removed = clean(PREFIX)
    typer.echo("\n".join(removed) if removed else "nothing to clean")

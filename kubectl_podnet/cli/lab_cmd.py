"""`kubectl podnet lab --mode MODE`: a networking mode built for real on this machine,
broken on purpose if that is the mode, inspected by the node agent and drawn as a map."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Optional, TextIO

import typer

from kubectl_podnet.cli.map_output import MapFormat
from kubectl_podnet.errors import ExitStatus

if TYPE_CHECKING:
    from kubectl_podnet.lab.modes import LabMode
    from kubectl_podnet.lab.session import ConnectResult
    from kubectl_podnet.lab.spec import LabPlan
    from kubectl_podnet.lab.world import LabNode
    from kubectl_podnet.model import PodNetNodeMap

app = typer.Typer(help="Build a networking mode by hand (netns, pause, containers, veth, bridge), inspect and map it.")


@app.callback(invoke_without_command=True)
def lab(
    ctx: typer.Context,
    mode_name: Annotated[str, typer.Option("--mode", help="a networking mode, or `list` to see them")] = "bridge",
    keep: Annotated[bool, typer.Option("--keep", help="leave the lab up to poke at; remove with `lab clean`")] = False,
    output: Annotated[MapFormat, typer.Option("-o", "--output")] = MapFormat.text,
    ascii_only: Annotated[bool, typer.Option("--ascii", help="plain ASCII (the default when not a terminal)")] = False,
    svg: Annotated[Optional[str], typer.Option("--svg", help="also write the map as SVG (needs Graphviz `dot`)")]
    = None,
    show_commands: Annotated[bool, typer.Option("--show-commands", help="print the manual commands too")] = False,
) -> None:
    """Needs root; no cluster. A mode's netns are named podnet-lab-MODE-*, so kept modes never clash."""
    if ctx.invoked_subcommand is not None:
        return
    from kubectl_podnet.cli.map_output import emit_map
    from kubectl_podnet.cli.output import terminal_width
    from kubectl_podnet.lab.modes import find_mode, mode_list
    from kubectl_podnet.lab.session import build_mode, clean_mode, map_lab, prove

    if mode_name == "list":
        sys.stdout.write(mode_list())
        raise typer.Exit(0)
    mode = find_mode(mode_name)
    clean_mode(mode)  # a previous --keep run of this mode: start from nothing
    log = sys.stdout if output is MapFormat.text else sys.stderr
    if mode.two_nodes:
        _two_nodes(mode, keep, output, show_commands, log)
    node = build_mode(mode)
    kept = False
    try:
        _built(mode, node, log)
        node_map = map_lab(node)
        connects = prove(mode, node)
        if output is MapFormat.text:
            log.write("Map (one agent run for the node and all its pods):\n")
        status = emit_map(node_map, output, ascii_only, svg, terminal_width())
        _verdicts(mode, node.plan, node_map, connects, log, show_commands)
        if keep:
            log.write("\nKept. Try:\n" + "".join(f"  {line}\n" for line in mode.try_commands(node.plan)))
            log.write(f"Remove with: kubectl podnet lab clean --mode {mode.name}\n")
            kept = True
    finally:
        if not kept:  # also after a failure under --keep: a half-built lab is no use
            node.teardown()
    raise typer.Exit(int(status))


def _two_nodes(mode: LabMode, keep: bool, output: MapFormat, show_commands: bool, log: TextIO) -> None:
    """A two-node mode: build both nodes and the overlay, break it if that is the mode, `connect`."""
    import textwrap

    from kubectl_podnet.cli.output import terminal_width
    from kubectl_podnet.lab.session import build_overlay
    from kubectl_podnet.render.connect_report import connect_commands, render_connect
    from kubectl_podnet.render.structured import render_json_doc, render_yaml_doc
    from kubectl_podnet.serde import to_json

    if output not in (MapFormat.text, MapFormat.json, MapFormat.yaml):
        from kubectl_podnet.errors import UsageError

        raise UsageError(f"a two-node mode prints a connect report: -o text, json or yaml, not {output.value}")
    lab = build_overlay(mode)
    kept = False
    width = terminal_width()
    try:
        log.write(f"Lab mode {mode.name}: {mode.summary}\n\nBuilt (the commands you would type):\n")
        log.write("".join(f"  {' '.join(argv)}\n" for node in lab.nodes for argv in node.commands))
        log.write("".join(f"  {' '.join(argv)}\n" for argv in lab.commands) + "\n")
        report = lab.connect()
        if output is MapFormat.json:
            sys.stdout.write(render_json_doc(to_json(report)))
        elif output is MapFormat.yaml:
            sys.stdout.write(render_yaml_doc(to_json(report)))
        else:
            log.write(render_connect(report, width))
            if show_commands:
                log.write("\nBy hand:\n" + "".join(f"  {line}\n" for line in connect_commands(report)))
        if mode.broken and mode.fix is not None:
            hop = next((h for h in report.hops if h.id == mode.caught_by), None)
            caught = f"caught by hop `{mode.caught_by}`: {hop.status.upper() if hop else 'not reported'}"
            log.write("\n" + textwrap.fill(f"Broken on purpose: {caught}.", width, subsequent_indent="  ") + "\n")
            log.write(textwrap.fill(f"Fix: {mode.fix(lab.nodes[0].plan)}", width, subsequent_indent="  ",
                                    break_on_hyphens=False) + "\n")
        if keep:
            log.write(f"\nKept. Try:\n  ip netns exec {lab.nodes[0].plan.pods[0].netns} ping -c 1 "
                      f"{lab.nodes[1].plan.pods[0].ipv4}\n  bridge -n {lab.node_netns(0)} fdb show dev flannel.1\n"
                      f"Remove with: kubectl podnet lab clean --mode {mode.name}\n")
            kept = True
    finally:
        if not kept:
            lab.teardown()
    raise typer.Exit(int(ExitStatus.of_verdict(report.verdict)))


def _built(mode: LabMode, node: LabNode, log: TextIO) -> None:
    log.write(f"Lab mode {mode.name}: {mode.summary}\n\nBuilt (the commands you would type):\n")
    log.write("".join(f"  {' '.join(argv)}\n" for argv in node.commands))
    for pod in node.plan.pods:
        where = f"netns {pod.netns}" if pod.netns else "the node's netns (hostNetwork)"
        log.write(f"  + pod {pod.spec.name}: pause process and containers {', '.join(pod.container_ids)} in "
                  f"{where}, each in its kubelet-style cgroup (pod uid {pod.uid})\n")
    log.write("\n")


def _verdicts(mode: LabMode, plan: LabPlan, node_map: PodNetNodeMap, connects: list[ConnectResult], log: TextIO,
              show_commands: bool) -> None:
    from kubectl_podnet.checks.registry import CHECK_IDS
    from kubectl_podnet.cni import describe
    from kubectl_podnet.render.commands import manual_commands
    from kubectl_podnet.render.text import render_table

    for report in node_map.pods:
        log.write(f"\nPod {report.pod.namespace}/{report.pod.name}:\n")
        log.write("".join(f"  {line}\n" for line in render_table(report)))
        if report.cni is not None:
            evidence = f", from {'; '.join(report.cni.evidence)}" if report.cni.evidence else ""
            log.write(f"  CNI: {describe(report.cni)}{evidence}\n")
        if show_commands:
            log.write("  By hand:\n" + "".join(f"    {line}\n" for line in manual_commands(report)))
    if connects:
        log.write("\nProved by a real connect:\n" + "".join(f"  {result.line()}\n" for result in connects))
    failing = [report for report in node_map.pods if report.verdict == "fail"]
    pods = f"{len(node_map.pods)} pod{'s' * (len(node_map.pods) != 1)}"
    log.write(f"\nVerdict: {'FAIL' if failing else 'PASS'} ({pods}, {len(failing)} failing a check)\n")
    if not mode.broken or mode.fix is None:
        return
    check_id = mode.caught_by
    found = [c for report in node_map.pods for c in report.checks if c.id == check_id]
    if check_id not in CHECK_IDS:
        caught = (f"the `{check_id}` check catches this, and this version does not have it yet: "
                  "every check here passes" + (", the connect above shows the failure" if connects else ""))
    elif any(c.status == "fail" for c in found):
        caught = f"caught by `{check_id}`: FAIL"
    else:
        caught = f"the `{check_id}` check should catch this but says {', '.join(c.status for c in found)}"
    import textwrap

    from kubectl_podnet.cli.output import terminal_width

    width = terminal_width()
    log.write("\n" + textwrap.fill(f"Broken on purpose: {caught}.", width, subsequent_indent="  ") + "\n")
    log.write(textwrap.fill(f"Fix: {mode.fix(plan)}", width, subsequent_indent="  ", break_on_hyphens=False) + "\n")


@app.command("clean")
def clean_cmd(
    mode_name: Annotated[Optional[str], typer.Option("--mode", help="only this mode's lab (default: every mode)")]
    = None,
) -> None:
    """Remove every netns, link, cgroup and process kept labs left."""
    from kubectl_podnet.lab.modes import MODES, PREFIX, find_mode
    from kubectl_podnet.lab.session import clean_mode
    from kubectl_podnet.lab.world import clean

    modes = [find_mode(mode_name)] if mode_name else list(MODES)
    removed = [line for mode in modes for line in clean_mode(mode)] + ([] if mode_name else clean(PREFIX))
    typer.echo("\n".join(removed) if removed else "nothing to clean")

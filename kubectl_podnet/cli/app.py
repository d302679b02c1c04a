"""Entry point: registers one module per verb and maps every error to its exit status.

This is the one place errors become exit codes (see errors.ExitStatus); a user sees
one line, never a traceback (PODNET_DEBUG=1 shows it).
"""

from __future__ import annotations

import os
import sys

import typer

from kubectl_podnet import __version__
from kubectl_podnet.cli import agent_cmd, completion_cmd, connect_cmd, inspect_cmd, lab_cmd, node_cmd
from kubectl_podnet.errors import ExitStatus, PodnetError

app = typer.Typer(
    name="kubectl podnet",
    help="Prove the Kubernetes pod-network model from inside the node: pause container, shared netns, "
    "one IP, one veth, localhost.\n\nExit codes: 0 pass, 1 a check failed, 2 bad usage, 3 cluster or agent trouble, "
    "4 a bug of kubectl-podnet.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
app.command("inspect")(inspect_cmd.inspect)
app.command("connect")(connect_cmd.connect)
app.add_typer(agent_cmd.app, name="agent")
app.add_typer(node_cmd.app, name="node")
app.add_typer(lab_cmd.app, name="lab")
completion_cmd.register(app)


@app.command("version")
def version() -> None:
    """Print the plugin version (the agent always runs the same code)."""
    typer.echo(f"kubectl-podnet {__version__}")


def is_command_path(words: list[str]) -> bool:
    """Whether `words` name a command or group of this CLI (its help may be replayed)."""
    command: object = typer.main.get_command(app)
    for word in words:
        command = (getattr(command, "commands", None) or {}).get(word)
        if command is None:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    try:
        code = app(args=argv, prog_name="kubectl podnet", standalone_mode=False)
    except typer.TyperException as exc:  # the parser's own: bad flags, values, arguments
        return _usage_error(exc)
    except typer.Abort:  # end of input at a prompt
        sys.stderr.write("kubectl-podnet: error: aborted\n")
        return int(ExitStatus.USAGE)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else int(ExitStatus.USAGE)
    except PodnetError as exc:
        if os.environ.get("PODNET_DEBUG"):
            raise
        sys.stderr.write(f"kubectl-podnet: error: {exc.one_line()}\n")
        return int(exc.exit_status)
    except Exception as exc:  # a bug of ours: still one line, with the way to see more
        if os.environ.get("PODNET_DEBUG"):
            raise
        sys.stderr.write(
            f"kubectl-podnet: internal error: {exc.__class__.__name__}: {exc} (rerun with PODNET_DEBUG=1 for details)\n"
        )
        return int(ExitStatus.INTERNAL)
    return code if isinstance(code, int) else int(ExitStatus.OK)  # typer.Exit(code) returns its code


def _usage_error(exc: typer.TyperException) -> int:
    """One line, like every other error, naming the help to read; a bare group prints its help."""
    context = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":  # `kubectl podnet` alone: the help is the answer
        sys.stderr.write(exc.format_message() + "\n")
        return int(ExitStatus.USAGE)
    message = " ".join(exc.format_message().split())
    hint = f" (see '{context.command_path} -h')" if context is not None else ""
    sys.stderr.write(f"kubectl-podnet: error: {message}{hint}\n")
    return int(ExitStatus.USAGE)

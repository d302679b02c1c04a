"""Shell completion: `completion bash|zsh|fish`, and cobra's `__complete` protocol for kubectl.

kubectl >= 1.26 completes `kubectl podnet <TAB>` by running `kubectl_complete-podnet ARGS... WORD`
(kubernetes/kubectl pkg/cmd/plugin: the words after the plugin name, the one being typed last,
possibly empty) and reading cobra's dynamic-completion answer on stdout: one candidate per line,
an optional tab and description, then `:<directive>` (spf13/cobra completions.go). Our shell
scripts speak the same protocol through `kubectl-podnet __complete ARGS... WORD`, so one answer
serves kubectl and the three shells.

Verbs, flags and choices are read from the typer app itself, so they cannot drift from the
commands. Pod, namespace and node names come from the cluster port with a short timeout, and
any failure there answers nothing (directive Error): completion must never print a traceback
or an error into the user's command line.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Iterable

import typer

from kubectl_podnet.cli.completion_scripts import SCRIPTS
from kubectl_podnet.errors import PodnetError

# cobra's ShellCompDirective bits
ERROR, NO_SPACE, NO_FILE_COMP, FILTER_FILE_EXT, FILTER_DIRS, KEEP_ORDER = 1, 2, 4, 8, 16, 32
DEFAULT = 0
_API_TIMEOUT = 3.0  # a completion that waits longer than this is worse than none


class Shell(str, enum.Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@dataclass
class Answer:
    candidates: list[tuple[str, str]] = field(default_factory=list)  # (value, description)
    directive: int = NO_FILE_COMP

    def render(self) -> str:
        lines = [f"{value}\t{help_}" if help_ else value for value, help_ in self.candidates]
        return "".join(f"{line}\n" for line in lines) + f":{self.directive}\n"


@dataclass
class Position:
    """Where the words before the cursor leave us: which command, and what it was told."""

    command: Any  # a click Command (typer vendors click; only this module walks it)
    path: list[str]
    values: dict[str, str]  # option name -> value given (namespace, context, kubeconfig)
    pending: Any | None  # the option whose value is being typed, if any
    positionals: int


# ---- reading the words -------------------------------------------------------------------


def _options(command: Any) -> list[Any]:
    return [p for p in command.params if getattr(p, "param_type_name", "") == "option" and not p.hidden]


def _find_option(command: Any, flag: str) -> Any | None:
    return next((p for p in _options(command) if flag in p.opts or flag in p.secondary_opts), None)


def _takes_value(option: Any) -> bool:
    return not (option.is_flag or option.count)


def _subcommands(command: Any) -> dict[str, Any]:
    found = getattr(command, "commands", None) or {}
    return {name: sub for name, sub in found.items() if not sub.hidden}


def locate(root: Any, words: list[str]) -> Position:
    """Walk the complete words (all but the one being typed) down the command tree."""
    position = Position(root, [], {}, None, 0)
    for word in words:
        if position.pending is not None:
            position.values[position.pending.name] = word
            position.pending = None
        elif word.startswith("-") and word != "-":
            flag, eq, value = word.partition("=")
            option = _find_option(position.command, flag)
            if option is not None and _takes_value(option):
                if eq:
                    position.values[option.name] = value
                else:
                    position.pending = option
        elif word in _subcommands(position.command) and position.positionals == 0:
            position.command = _subcommands(position.command)[word]
            position.path.append(word)
        else:
            position.positionals += 1
    return position


# ---- answering ---------------------------------------------------------------------------

Lister = Callable[[Position, str], list[str]]


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""


def _flag_candidates(command: Any) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for option in _options(command):
        for flag in [*option.opts, *option.secondary_opts]:
            found.append((flag, _first_line(option.help)))
    found += [("--help", "show this message")]
    return found


def _choices(param: Any) -> list[str] | None:
    described = getattr(param, "type_descriptor", None)  # typer >= 0.2x; click's Choice before
    if described is not None:
        choices = described.choices if described.is_choice else None
    else:
        choices = getattr(getattr(param, "type", None), "choices", None)
    return [str(getattr(c, "value", c)) for c in choices] if choices else None


def complete(root: Any, words: list[str], lister: Lister) -> Answer:
    """The answer to `__complete WORDS...`: the last word is the one being typed."""
    *done, typing = words or [""]
    position = locate(root, done)
    prefix = ""
    option = position.pending
    if option is None and typing.startswith("--") and "=" in typing:
        flag, _, rest = typing.partition("=")
        option = _find_option(position.command, flag)
        if option is not None and _takes_value(option):
            prefix, typing = f"{flag}=", rest
        else:
            option = None
    if option is not None:
        answer = _option_values(option, position, typing, lister)
    elif typing.startswith("-"):
        answer = Answer(_flag_candidates(position.command))
    elif _subcommands(position.command) and position.positionals == 0:
        answer = Answer([(name, _first_line(sub.short_help or sub.help))
                         for name, sub in sorted(_subcommands(position.command).items())])
    else:
        answer = _argument_values(position, typing, lister)
    answer.candidates = [(prefix + value, help_) for value, help_ in answer.candidates if value.startswith(typing)]
    return answer


# option name -> the cluster listing that completes its value
_LISTED = {"namespace": "namespaces", "agent_namespace": "namespaces", "context": "contexts", "node": "nodes"}


def _option_values(option: Any, position: Position, typing: str, lister: Lister) -> Answer:
    choices = _choices(option)
    if choices:
        return Answer([(c, "") for c in choices])
    if option.name == "kubeconfig":
        return Answer(directive=DEFAULT)  # a file name: the shell completes it
    if option.name.endswith("_dir"):
        return Answer(directive=FILTER_DIRS)
    if option.name in _LISTED:
        return _listed(_LISTED[option.name], position, typing, lister)
    return Answer()


def _argument_values(position: Position, typing: str, lister: Lister) -> Answer:
    arguments = [p for p in position.command.params if getattr(p, "param_type_name", "") == "argument"]
    if not arguments:
        return Answer()
    argument = arguments[min(position.positionals, len(arguments) - 1)]
    if position.positionals >= len(arguments) and argument.nargs != -1:
        return Answer()
    choices = _choices(argument)
    if choices:
        return Answer([(c, "") for c in choices])
    if argument.name == "pods":
        return _listed("pods", position, typing, lister)
    return Answer()


def _listed(what: str, position: Position, typing: str, lister: Lister) -> Answer:
    try:
        names = lister(position, what)
    except PodnetError:  # quiet by design: no cluster (or no kubeconfig), no answer
        if os.environ.get("PODNET_DEBUG"):
            raise
        return Answer(directive=ERROR)
    return Answer([(name, "") for name in sorted(set(names))])


def cluster_lister(position: Position, what: str) -> list[str]:
    """The real listing, through the cluster port's one adapter."""
    from kubectl_podnet.cluster.kube import KubeCluster, context_names

    kubeconfig, context = position.values.get("kubeconfig"), position.values.get("context")
    if what == "contexts":
        return context_names(kubeconfig)
    cluster = KubeCluster(kubeconfig=kubeconfig, context=context)
    if what == "pods":
        namespace = position.values.get("namespace") or cluster.default_namespace
        return cluster.names("Pod", namespace, timeout=_API_TIMEOUT)
    return cluster.names("Namespace" if what == "namespaces" else "Node", None, timeout=_API_TIMEOUT)


def answer_words(root: Any, words: Iterable[str], lister: Lister = cluster_lister) -> str:
    return complete(root, list(words), lister).render()


# ---- the commands --------------------------------------------------------------------------


def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish")]) -> None:
    """Print a completion script for kubectl-podnet (kubectl's own completion uses kubectl_complete-podnet)."""
    typer.echo(SCRIPTS[shell.value], nl=False)


def complete_hidden(ctx: typer.Context) -> None:
    """cobra's __complete: the words after the plugin name, the one being typed last."""
    sys.stdout.write(answer_words(ctx.find_root().command, ctx.args))


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)
    app.command("__complete", hidden=True, add_help_option=False,
                context_settings={"ignore_unknown_options": True, "allow_extra_args": True,
                                  "allow_interspersed_args": False})(complete_hidden)


def complete_for_kubectl(app: typer.Typer, args: list[str]) -> int:
    """`kubectl_complete-podnet ARGS...`: what kubectl runs for `kubectl podnet <TAB>`."""
    if args[:1] == ["__complete"]:  # wrappers that call `kubectl podnet __complete "$@"` style
        args = args[1:]
    try:
        sys.stdout.write(answer_words(typer.main.get_command(app), args))
    except PodnetError:  # cluster trouble stays silent in the shell; a bug of ours does not hide
        if os.environ.get("PODNET_DEBUG"):
            raise
        sys.stdout.write(f":{ERROR}\n")
    return 0

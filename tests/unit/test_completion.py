"""Completion: cobra's __complete answers, read off the real typer app.

Cluster names come through a lister passed in (our own seam); the last tests run the real
`kubectl_complete-podnet` against a kubeconfig whose API server refuses connections
(loopback, port 1) to prove a failing cluster costs no output but the directive.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from kubectl_podnet.cli.app import app, main
from kubectl_podnet.cli.completion_cmd import ERROR, FILTER_DIRS, NO_FILE_COMP, Answer, Position, complete
from kubectl_podnet.cli.completion_scripts import SCRIPTS
from kubectl_podnet.cli.output import Format
from kubectl_podnet.errors import ClusterError

ROOT = typer.main.get_command(app)
FORMATS = [output.value for output in Format]  # the one table of output formats, in its order
NAMES = {"pods": ["web-1", "web-2", "db"], "namespaces": ["default", "kube-system", "team-a"],
         "nodes": ["node-a", "node-b"], "contexts": ["prod", "lab"]}


class Recorder:
    """Answers listings from NAMES and remembers what it was asked with."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, dict[str, str]]] = []

    def __call__(self, position: Position, what: str) -> list[str]:
        self.asked.append((what, dict(position.values)))
        return NAMES[what]


def values(answer: Answer) -> list[str]:
    return [value for value, _ in answer.candidates]


def test_the_answer_is_one_candidate_per_line_with_a_tab_description_then_the_directive() -> None:
    answer = Answer([("inspect", "Prove it"), ("version", "")], NO_FILE_COMP)
    assert answer.render() == "inspect\tProve it\nversion\n:4\n"


def test_verbs_come_from_the_app_with_their_help_and_hidden_ones_stay_hidden() -> None:
    answer = complete(ROOT, [""], Recorder())
    assert values(answer) == ["agent", "completion", "connect", "inspect", "lab", "node", "version"]
    assert "__complete" not in values(answer)
    assert dict(answer.candidates)["inspect"].startswith("Prove the pod-network model")
    assert answer.directive == NO_FILE_COMP


def test_nested_verbs_and_a_typed_prefix_filter_the_candidates() -> None:
    assert values(complete(ROOT, ["agent", "u"], Recorder())) == ["uninstall"]
    assert values(complete(ROOT, ["ins"], Recorder())) == ["inspect"]


def test_flags_of_the_command_under_the_cursor() -> None:
    answer = complete(ROOT, ["inspect", "--n"], Recorder())
    assert values(answer) == ["--namespace", "--node", "--no-install"]
    assert "-o" in values(complete(ROOT, ["inspect", "-"], Recorder()))
    assert "--print-only" in values(complete(ROOT, ["agent", "install", "--"], Recorder()))


def test_output_formats_after_dash_o_and_in_the_equals_form() -> None:
    assert values(complete(ROOT, ["inspect", "-o", ""], Recorder())) == FORMATS
    assert values(complete(ROOT, ["inspect", "--output=y"], Recorder())) == ["--output=yaml"]


def test_pod_names_are_listed_in_the_namespace_given_by_any_spelling() -> None:
    for words in (["inspect", "-n", "team-a", "w"], ["inspect", "--namespace=team-a", "w"],
                  ["inspect", "--context", "lab", "--namespace", "team-a", "w"]):
        lister = Recorder()
        assert values(complete(ROOT, words, lister)) == ["web-1", "web-2"]
        assert lister.asked[0][0] == "pods" and lister.asked[0][1]["namespace"] == "team-a"
    lister = Recorder()
    complete(ROOT, ["inspect", "web-1", "--context", "lab", ""], lister)
    assert lister.asked == [("pods", {"context": "lab"})], "a second pod name is completed too"


def test_namespaces_contexts_and_nodes_complete_their_options() -> None:
    assert values(complete(ROOT, ["inspect", "-n", "kube"], Recorder())) == ["kube-system"]
    assert values(complete(ROOT, ["agent", "status", "--context", ""], Recorder())) == ["lab", "prod"]
    assert values(complete(ROOT, ["inspect", "--agent-namespace", "t"], Recorder())) == ["team-a"]
    assert values(complete(ROOT, ["inspect", "--node", "node-"], Recorder())) == ["node-a", "node-b"]  # the sweep's


def test_shells_complete_the_completion_verb_and_paths_defer_to_the_shell() -> None:
    assert values(complete(ROOT, ["completion", ""], Recorder())) == ["bash", "zsh", "fish"]
    assert complete(ROOT, ["inspect", "--kubeconfig", ""], Recorder()).directive == 0  # file names
    assert complete(ROOT, ["node", "inspect", "--netns-dir", ""], Recorder()).directive == FILTER_DIRS


def test_a_failing_listing_answers_only_the_error_directive() -> None:
    def broken(position: Position, what: str) -> list[str]:
        raise ClusterError("cannot reach the API server at https://127.0.0.1:6443: connection refused")

    assert complete(ROOT, ["inspect", ""], broken).render() == f":{ERROR}\n"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_that_asks_dunder_complete(
    shell: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["completion", shell]) == 0
    out = capsys.readouterr().out
    assert out == SCRIPTS[shell] and "kubectl-podnet __complete" in out


# Each shell's script, driven as the shell would (words + cursor), against the real
# `kubectl-podnet __complete` installed next to this Python. zsh's _describe/_files need its
# completion system's context, so they are replaced by printers: the script's own parsing and
# directive handling is what runs.
_DRIVERS = {
    "bash": ("bash", "-c", """source <(kubectl-podnet completion bash)
complete_at() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); COMPREPLY=(); _kubectl_podnet; printf '%s\\n' "${COMPREPLY[@]}"; echo .; }
complete_at kubectl-podnet inspect -o ''; complete_at kubectl-podnet ag; complete_at kubectl-podnet inspect --kubeconfig /e"""),
    "zsh": ("zsh", "-f", "-c", """compdef() { :; }; _describe() { print -rl -- "${(@P)4}"; }; _files() { print FILES; }
source <(kubectl-podnet completion zsh)
complete_at() { words=("$@"); CURRENT=$#; _kubectl_podnet; print .; }
complete_at kubectl-podnet inspect -o ''; complete_at kubectl-podnet ag; complete_at kubectl-podnet inspect --kubeconfig /e"""),
    "fish": ("fish", "-c", """kubectl-podnet completion fish | source
complete -C'kubectl-podnet inspect -o '; echo .; complete -C'kubectl-podnet ag'; echo .
complete -C'kubectl-podnet inspect --kubeconfig /e'; echo ."""),
}
_EXPECTED = {
    "bash": f"{' '.join(FORMATS)} . agent . /etc .",
    "zsh": f"{' '.join(FORMATS)} . agent:Manage the privileged node agent DaemonSet. . FILES .",
    "fish": f"{' '.join(sorted(FORMATS))} . agent\tManage the privileged node agent DaemonSet. . /etc/ .",
}


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_shell_script_completes_verbs_choices_and_falls_back_to_files(shell: str) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed here")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(_DRIVERS[shell], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert " ".join(line for line in done.stdout.splitlines() if line) == _EXPECTED[shell], done.stdout


def test_unknown_shell_is_usage_exit_2() -> None:
    assert main(["completion", "tcsh"]) == 2


def test_dunder_complete_of_the_main_executable_gives_the_same_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["__complete", "inspect", "-o", ""]) == 0
    assert capsys.readouterr().out == "".join(f"{value}\n" for value in FORMATS) + ":4\n"


def _complete_script() -> str:
    script = Path(sys.executable).with_name("kubectl_complete-podnet")
    if not script.is_file():
        pytest.fail("kubectl_complete-podnet is not installed next to this Python: pip install -e . again")
    return str(script)


def test_the_installed_executable_is_quiet_when_the_api_server_refuses(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        "clusters: [{name: dead, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u, namespace: team-a}},"
        " {name: other, context: {cluster: dead, user: u}}]\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(kubeconfig)}
    for words, expected in ((["inspect", ""], f":{ERROR}\n"), (["inspect", "-n", ""], f":{ERROR}\n"),
                            (["inspect", "--context", ""], "dead\nother\n:4\n")):
        done = subprocess.run([_complete_script(), *words], env=env, capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout, done.stderr) == (0, expected, ""), words


def test_the_installed_executable_is_quiet_without_any_kubeconfig(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    done = subprocess.run([_complete_script(), "inspect", "we"], env=env, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, f":{ERROR}\n", "")

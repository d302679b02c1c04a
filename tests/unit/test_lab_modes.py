"""The lab modes registry: each mode named once, `--mode list` reads it, names never clash."""

from __future__ import annotations

import pytest

from kubectl_podnet.checks.hops import HOP_IDS
from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.errors import UsageError
from kubectl_podnet.lab.modes import MODES, find_mode, mode_list
from kubectl_podnet.lab.plan import Command, node_commands, pod_commands
from kubectl_podnet.lab.spec import LabPlan
from kubectl_podnet.lab.spec import plan_lab



def all_commands(plan: LabPlan) -> list[Command]:
    """What the lab runs for `plan`, in its order: the node, then each pod."""
    return node_commands(plan) + [argv for pod in plan.pods for argv in pod_commands(plan, pod)]


def test_every_mode_is_named_once_and_listed_on_one_line() -> None:
    names = [mode.name for mode in MODES]
    assert len(names) == len(set(names))
    lines = mode_list().splitlines()
    assert [line.split()[0] for line in lines] == names
    assert all(mode.summary in line for mode, line in zip(MODES, lines))


def test_no_mode_prefix_is_a_prefix_of_another_so_kept_labs_never_clash() -> None:
    prefixes = [mode.prefix + "-" for mode in MODES]
    for one in prefixes:
        for other in prefixes:
            assert one == other or not other.startswith(one), (one, other)


def test_a_broken_mode_names_a_known_check_and_its_fix() -> None:
    for mode in (m for m in MODES if m.broken):
        assert mode.caught_by in (HOP_IDS if mode.two_nodes else CHECK_IDS), mode.name
        assert mode.fix is not None, mode.name


def test_an_unknown_mode_is_a_usage_error_naming_the_modes() -> None:
    with pytest.raises(UsageError, match="no lab mode 'overlay'.*bridge, routed"):
        find_mode("overlay")


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
def test_every_mode_plans_commands_under_its_own_prefix(mode: object) -> None:
    from kubectl_podnet.lab.modes import LabMode

    assert isinstance(mode, LabMode)
    plan = plan_lab(mode.prefix, mode.pods())
    for argv in all_commands(plan) + mode.breaks(plan):
        names = [arg for arg in argv if arg.startswith("podnet-lab")]
        assert all(name.startswith(mode.prefix + "-") for name in names), argv


def test_the_none_network_gets_lo_only_and_no_pod_ip() -> None:
    plan = plan_lab("x", find_mode("none").pods())
    (pod,) = plan.pods
    assert pod.pod_ips == []
    assert [argv for argv in all_commands(plan) if "x-web" in argv] == [
        ["ip", "netns", "add", "x-web"], ["ip", "-n", "x-web", "link", "set", "lo", "up"]]


def test_lab_with_an_unknown_mode_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from kubectl_podnet.cli.app import main

    assert main(["lab", "--mode", "overlay"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kubectl-podnet: error: no lab mode 'overlay'") and err.count("\n") == 1

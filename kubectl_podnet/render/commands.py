"""`--show-commands`: the manual commands a learner types to redo each check by hand.

Each check carries its own (`Check.by_hand`), filled in from the report with the real
pids, names and ports; this only puts them under the check they redo. Pure.
"""

from __future__ import annotations

from kubectl_podnet.checks.registry import CHECKS
from kubectl_podnet.model import PodNetReport

ON_THE_NODE = "# on the node (ssh, or: kubectl debug node/NODE -it --profile=sysadmin --image=...)"


def manual_commands(report: PodNetReport) -> list[str]:
    lines = [ON_THE_NODE]
    for check in CHECKS:
        commands = check.by_hand(report)
        if commands:
            lines += [f"# {check.id}: {check.proves}", *commands]
    return lines

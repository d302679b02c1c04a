"""Reading the plugin's results the way a CI job would: the JSON report and the one error line."""

from __future__ import annotations

from typing import Any

from e2e.clients import ERROR_PREFIX, Run
from kubectl_podnet.checks.registry import CHECK_IDS


def report_of(run: Run, code: int) -> dict[str, Any]:
    """The JSON report of a run that must have ended with `code`."""
    assert run.code == code, f"expected exit {code}\n{run.describe()}"
    report: dict[str, Any] = run.json()
    assert report["apiVersion"] == "podnet/v1" and report["kind"] == "PodNetReport", report
    assert [c["id"] for c in report["checks"]] == list(CHECK_IDS), report["checks"]
    assert report["verdict"] == ("fail" if code == 1 else "pass"), report["verdict"]
    return report


def checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["id"]: check for check in report["checks"]}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["id"]: check["status"] for check in report["checks"]}


def container(report: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [c for c in report["containers"] if c["name"] == name]
    assert found, f"no container {name} in {[c['name'] for c in report['containers']]}"
    return found[0]


def eth0(report: dict[str, Any]) -> dict[str, Any]:
    found: list[dict[str, Any]] = [i for i in report["interfaces"] if i["name"] == "eth0"]
    assert found, f"no eth0 in {[i['name'] for i in report['interfaces']]}"
    return found[0]


def error_line(run: Run, code: int = 3) -> str:
    """The one `kubectl-podnet: error: ...` line of a failed run; nothing on stdout."""
    assert run.code == code, f"expected exit {code}\n{run.describe()}"
    assert run.stdout.strip() == "", f"a failed run printed a report\n{run.describe()}"
    lines = run.error_lines()
    assert len(lines) == 1, f"expected one error line\n{run.describe()}"
    assert lines[0].startswith(ERROR_PREFIX), run.describe()
    assert run.stderr.rstrip().splitlines()[-1] == lines[0], f"the error is not the last line\n{run.describe()}"
    assert "Traceback" not in run.stderr, run.describe()
    return lines[0]


def mtu_is_fine_here(report: dict[str, Any]) -> bool:
    """`mtu` passes, or warns only because this node's uplink is smaller than the pod's eth0.

    A legitimate warning, not a test failure: the local cluster runs on a machine whose
    uplink has mtu 1400 while its bridge CNI gives pods the default 1500 (the veth pair
    still agrees). The warning is the check doing its job; the evidence must show exactly that.
    """
    check = checks(report)["mtu"]
    if check["status"] == "pass":
        return True
    evidence = check["evidence"]
    (eth0_mtu,) = evidence["eth0"].values()
    pair_agrees = list(evidence["hostPeer"].values()) in ([eth0_mtu], [])
    uplink = list(evidence["uplink"].values())
    return bool(check["status"] == "warn" and pair_agrees and uplink and eth0_mtu > evidence["limit"]
                and not evidence["overlays"] and evidence["limit"] == uplink[0])

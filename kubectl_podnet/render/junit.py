"""Many pods for a CI server: JUnit XML, as GitHub Actions, GitLab and Jenkins read it.

The mapping, chosen so every pod has the same test cases in every run (a CI server's
history then follows one pod's one check across runs):
- a `<testsuite>` per namespace, a `<testcase>` per pod and check (`classname`
  NAMESPACE.POD, Jenkins' package.class; `name` the check id from `checks.CHECKS`);
- a failed check: `<failure>` with its summary (and fix) as the message, and its
  evidence (the pids, inodes, addresses to redo it by hand) as the element's text;
- a warning passes, its summary in `<system-out>`; a skipped check: `<skipped>`;
- a pod not inspected: every check of it `<error>` with the pod's error; a pod a sweep
  skipped (not running, terminating, the agent itself): every check `<skipped>` with why.
Times are 0: the agent measures one exec per node, not per check.
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

from kubectl_podnet.checks.registry import CHECK_IDS
from kubectl_podnet.errors import PodnetError
from kubectl_podnet.model import CheckResult
from kubectl_podnet.outcome import PodOutcome, Skipped

# XML 1.0 cannot carry most control characters, even escaped; a process's command line can
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _check_case(case: ElementTree.Element, check: CheckResult) -> str | None:
    """Fill the testcase of one check; the kind of non-pass it is, if any."""
    if check.status == "fail":
        message = _xml(check.summary + (f" (fix: {check.fix})" if check.fix else ""))
        failure = ElementTree.SubElement(case, "failure", message=message, type=check.id)
        evidence = json.dumps(check.evidence, indent=2, sort_keys=True, default=str)
        failure.text = _xml(f"{message}\n\nevidence:\n{evidence}\n")
        return "failures"
    if check.status == "skip":
        ElementTree.SubElement(case, "skipped", message=_xml(check.summary))
        return "skipped"
    if check.status == "warn":
        out = ElementTree.SubElement(case, "system-out")
        out.text = _xml(f"warning: {check.summary}" + (f" (fix: {check.fix})" if check.fix else "") + "\n")
    return None


def _pod_cases(suite: ElementTree.Element, item: PodOutcome, counts: dict[str, int]) -> None:
    outcome = item.outcome
    found = {} if isinstance(outcome, (PodnetError, Skipped)) else {c.id: c for c in outcome.checks}
    for check_id in CHECK_IDS:
        case = ElementTree.SubElement(suite, "testcase", classname=f"{item.namespace}.{item.name}", name=check_id,
                                      time="0")
        counts["tests"] += 1
        kind: str | None
        if isinstance(outcome, PodnetError):
            ElementTree.SubElement(case, "error", message=_xml(outcome.one_line()), type=type(outcome).__name__)
            kind = "errors"
        elif isinstance(outcome, Skipped):
            ElementTree.SubElement(case, "skipped", message=_xml(f"pod {outcome.phase}: {outcome.reason}"))
            kind = "skipped"
        elif check_id in found:
            kind = _check_case(case, found[check_id])
        else:  # a report from an agent that did not run this check
            ElementTree.SubElement(case, "skipped", message="the agent did not run this check")
            kind = "skipped"
        if kind:
            counts[kind] += 1


def render_junit(outcomes: list[PodOutcome]) -> str:
    root = ElementTree.Element("testsuites", name="kubectl-podnet")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    by_namespace: dict[str, list[PodOutcome]] = {}
    for item in outcomes:
        by_namespace.setdefault(item.namespace, []).append(item)
    for namespace, items in by_namespace.items():
        suite = ElementTree.SubElement(root, "testsuite", name=namespace)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for item in items:
            _pod_cases(suite, item, counts)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("time", "0")
    for key in ("tests", "failures", "errors"):  # the Surefire schema has no `skipped` here
        root.set(key, str(totals[key]))
    root.set("time", "0")
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root, encoding="unicode") + "\n"

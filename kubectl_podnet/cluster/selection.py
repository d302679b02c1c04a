"""Which pods an inspect is about: pods by name, or a sweep (-A, --all, --node, -l).

A pod named by the user is inspected or fails: it was asked for. A sweep takes what it
finds, and some of what it finds has no network to prove; those pods are listed as
skipped with their phase and never fail the sweep:
- Pending (not scheduled, or its containers not started), Succeeded and Failed pods:
  no running container, or no sandbox any more;
- terminating pods: their processes vanish while the agent looks;
- the podnet agent's own pods: the instrument, not the subject (and a sweep that
  installs the agent would otherwise find them or not depending on timing).
Everything else is inspected, hostNetwork pods and other DaemonSets' pods (kube-proxy,
the CNI's own daemons) included: they are pods like any other to the checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from kubectl_podnet.cluster.manifests import AGENT_NAME
from kubectl_podnet.cluster.port import ClusterPort, Obj
from kubectl_podnet.errors import ClusterError, PodnetError
from kubectl_podnet.outcome import PodOutcome, Skipped


@dataclass(frozen=True)
class Selection:
    namespace: str | None  # None: every namespace
    names: tuple[str, ...] = ()  # pods by name (in `namespace`); empty: a sweep
    selector: str | None = None
    node: str | None = None

    @property
    def sweep(self) -> bool:
        return not self.names

    def describe(self) -> str:
        where = f"in namespace {self.namespace}" if self.namespace is not None else "in any namespace"
        parts = [f"no pod {where}"]
        if self.selector:
            parts.append(f"matches {self.selector!r}")
        if self.node:
            parts.append(f"{'and is' if self.selector else 'is'} on node {self.node}")
        return " ".join(parts)


def _waiting(pod: Obj) -> str | None:
    status = pod.get("status", {})
    for entry in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []):
        reason = ((entry.get("state") or {}).get("waiting") or {}).get("reason")
        if reason:
            return f"{entry.get('name')}: {reason}"
    return None


def skip_reason(pod: Obj, agent_namespace: str) -> Skipped | None:
    """Why a sweep leaves this pod out, or None to inspect it. Pure."""
    meta, spec, status = pod["metadata"], pod.get("spec", {}), pod.get("status", {})
    phase = status.get("phase") or "Pending"
    if meta.get("namespace") == agent_namespace and (meta.get("labels") or {}).get("app.kubernetes.io/name") == AGENT_NAME:
        return Skipped(phase, "the podnet agent itself")
    if meta.get("deletionTimestamp"):
        return Skipped(phase, "terminating")
    if phase in ("Succeeded", "Failed"):
        return Skipped(phase, "finished: its network namespace is gone")
    if phase == "Pending":
        if not spec.get("nodeName"):
            return Skipped(phase, "not scheduled yet")
        return Skipped(phase, f"not running yet ({_waiting(pod) or 'starting'})")
    return None


def select_pods(cluster: ClusterPort, selection: Selection) -> Iterator[Obj | PodOutcome]:
    """The pods asked for, by name (a missing one becomes its error), or a sweep's as the
    pages of the list arrive. A sweep that finds nothing is an error naming what it looked for."""
    if selection.sweep:
        found_any = False
        for pod in cluster.iter_pods(selection.namespace, selection.selector or "", node=selection.node):
            found_any = True
            yield pod
        if not found_any:
            raise ClusterError(selection.describe())
        return
    namespace = selection.namespace or ""
    for name in selection.names:
        try:
            yield cluster.read_pod(namespace, name)
        except PodnetError as exc:
            yield PodOutcome(namespace, name, exc)

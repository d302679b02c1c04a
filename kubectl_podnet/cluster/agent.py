"""The agent DaemonSet: install, find its pod on a node, explain why it is not there.

Decisions live here, in pure code over the port's create/replace/read (the real adapter
and the fake decide nothing):
- The installed DaemonSet is authoritative: its image never changes implicitly. `inspect`
  uses whatever is installed; a differing `--agent-image` is a usage error naming both;
  `agent install --agent-image X` is the one way to switch.
- A plugin upgrades the DaemonSet only forward: when the installed spec revision is older
  than ours (keeping its image), never because another plugin version wrote it.
- Concurrent installs converge: a create answering AlreadyExists means someone else
  created it (read it and decide again), a replace answering Conflict re-reads and decides
  again, a bounded number of times.
- Warm path, least privilege: one list of the agent pods on the node; a ready pod of the
  current revision (and the asked image) is used at once, with no DaemonSet read. Only
  when that fails is the DaemonSet read or installed; `--no-install` never reads it.

Waiting shows one progress line on stderr; a timeout names the cause the pod status
gives (image pull error, unschedulable, a taint), or the DaemonSet's FailedCreate event
(Pod Security, a quota, a webhook) when no pod could be created at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

from kubectl_podnet.cluster import bootstrap
from kubectl_podnet.cluster.manifests import (
    AGENT_NAME,
    CONTAINER,
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    LABEL_SELECTOR,
    MANAGED_BY,
    SPEC_REVISION,
    agent_objects,
    image_of,
    revision_of,
    spec_hash,
)
from kubectl_podnet.cluster.port import ClusterPort, Obj
from kubectl_podnet.errors import AgentError, AlreadyExists, Conflict, PodnetError, UsageError

Progress = Callable[[str], None]
Action = Literal["create", "replace", "keep"]
ATTEMPTS = 5  # create/replace races we ride through before giving up
# waiting for an agent pod: a new one is ready ~1-2 s after its DaemonSet is created, so
# look often at first (a 1 s poll cost a cold inspect 0.5 s on average), then each second
_POLL_FIRST = 0.2
_POLL_MAX = 1.0


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class AgentPod:
    name: str
    node: str
    namespace: str
    # it became ready while this run waited for it: a new pod, whose code cache (an
    # emptyDir) is empty, so the first exec carries the code instead of asking first
    fresh: bool = False


@dataclass(frozen=True)
class Plan:
    """What to do with one object, and with which image (for the DaemonSet)."""

    action: Action
    image: str
    why: str = ""


def switch_hint(image: str) -> str:
    return f"`kubectl podnet agent install --agent-image {image}` is the way to switch it"


def plan_daemonset(current: Obj | None, requested: str | None, explicit: bool) -> Plan:
    """Create, replace or keep the agent DaemonSet. Pure: the rules of the module docstring."""
    if current is None:
        return Plan("create", requested or DEFAULT_IMAGE, "installing")
    installed = image_of(current) or DEFAULT_IMAGE
    revision = revision_of(current)
    if (current.get("metadata") or {}).get("deletionTimestamp"):
        raise AgentError("the podnet agent DaemonSet is being deleted", hint="rerun once `agent uninstall` is done")
    if not explicit:
        if requested is not None and requested != installed:
            raise UsageError(
                f"the podnet agent is installed with image {installed}, not {requested}", hint=switch_hint(requested)
            )
        if revision < SPEC_REVISION:
            return Plan("replace", installed, "upgrading")
        return Plan("keep", installed)
    image = requested or installed
    if revision > SPEC_REVISION:
        if image == installed:
            return Plan("keep", installed, f"installed by a newer plugin (spec revision {revision}): left as it is")
        raise AgentError(
            f"the podnet agent was installed by a newer plugin (spec revision {revision} > {SPEC_REVISION})",
            hint="upgrade kubectl-podnet to change its image",
        )
    desired = _daemonset(current["metadata"].get("namespace") or DEFAULT_NAMESPACE, image)
    if revision < SPEC_REVISION or spec_hash(current) != spec_hash(desired):
        return Plan("replace", image, "configuring")
    return Plan("keep", image)


def plan_object(current: Obj | None, desired: Obj, explicit: bool) -> Action:
    """The Namespace and ServiceAccount: created when missing, restored only by `agent install`,
    and only when ours (an existing namespace someone else made keeps its labels)."""
    if current is None:
        return "create"
    labels = (current.get("metadata") or {}).get("labels") or {}
    ours = all(labels.get(key) == value for key, value in MANAGED_BY.items())
    if explicit and ours and spec_hash(current) != spec_hash(desired):
        return "replace"
    return "keep"


def _daemonset(namespace: str, image: str) -> Obj:
    return next(obj for obj in agent_objects(namespace, image) if obj["kind"] == "DaemonSet")


def pod_ready(pod: Obj) -> bool:
    return pod_problem(pod) is None and not pod["metadata"].get("deletionTimestamp")


def pod_problem(pod: Obj) -> str | None:
    """Why an agent pod is not running, in one phrase, or None if it runs."""
    status = pod.get("status", {})
    for entry in status.get("containerStatuses") or []:
        state = entry.get("state") or {}
        if "running" in state and entry.get("ready", True):
            return None
        waiting = state.get("waiting") or {}
        reason = waiting.get("reason")
        if reason in ("ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"):
            return f"image pull error ({reason}): {waiting.get('message', '')}".strip()
        if reason:
            return f"{reason}: {waiting.get('message', '')}".rstrip(": ")
        terminated = state.get("terminated") or {}
        if terminated:
            return f"agent container exited ({terminated.get('reason', 'code ' + str(terminated.get('exitCode')))})"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return f"pending: {condition.get('message') or condition.get('reason')}"
    return f"{status.get('phase', 'Pending')}"


def last_used_text(stamp: str, now: float) -> str:
    """The bootstrap's stamp ("EPOCH DIGEST", or "never") as people read it. Pure."""
    words = stamp.split()
    if not words or words[0] == "never":
        return "not used since it started"
    try:
        when = int(words[0])
    except ValueError:
        return f"last use unknown (stamp {stamp.strip()[:40]!r})"
    ago = max(0, int(now) - when)
    for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
        if ago >= seconds:
            span = f"{ago // seconds}{unit}"
            break
    else:
        span = f"{ago}s"
    stamp_time = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
    return f"last used {span} ago ({stamp_time})"


def newest_event(events: list[Obj], uid: str | None) -> Obj | None:
    """The latest event about the object with `uid` (events outlive a deleted DaemonSet)."""
    mine = [e for e in events if uid is None or (e.get("involvedObject") or {}).get("uid") == uid]
    return max(mine, key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""), default=None)


class AgentManager:
    def __init__(
        self,
        cluster: ClusterPort,
        namespace: str = DEFAULT_NAMESPACE,
        image: str | None = None,
        progress: Progress = _quiet,
    ) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.image = image  # None: whatever is installed (the default for a first install)
        self.progress = progress
        self._lock = threading.Lock()  # nodes run in parallel; the DaemonSet is ensured once
        self._ensured: Obj | PodnetError | None = None
        self.created = False  # this manager created the DaemonSet (what `inspect --cleanup` undoes)

    def objects(self) -> list[Obj]:
        return agent_objects(self.namespace, self.image or DEFAULT_IMAGE)

    # ---- install -------------------------------------------------------------------------

    def _converge(self, kind: str, namespace: str | None, name: str, decide: Callable[[Obj | None], tuple[Action, Obj]]
                  ) -> tuple[str, Obj]:
        """Read, decide, write; a 409 from a racing writer means read and decide again."""
        for _ in range(ATTEMPTS):
            current = self.cluster.read(kind, namespace, name)
            action, desired = decide(current)
            try:
                if action == "keep":
                    assert current is not None
                    return "unchanged", current
                if action == "create":
                    return "created", self.cluster.create(desired)
                assert current is not None
                desired["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
                return "configured", self.cluster.replace(desired)
            except (AlreadyExists, Conflict):
                continue  # someone else wrote it between our read and our write
        raise AgentError(f"{kind} {name} kept changing while we installed it ({ATTEMPTS} attempts)", hint="rerun")

    def install(self, explicit: bool = True) -> list[str]:
        """Converge the three objects; one line per object saying what happened."""
        lines: list[str] = []
        for desired in self.objects():
            kind, meta = desired["kind"], desired["metadata"]
            if kind == "DaemonSet":
                done, why = self._install_daemonset(explicit)
                lines.append(f"{kind}/{meta['name']} {done}" + (f" ({why})" if why else ""))
                continue

            def decide(current: Obj | None, wanted: Obj = desired) -> tuple[Action, Obj]:
                return plan_object(current, wanted, explicit), wanted

            done, _ = self._converge(kind, meta.get("namespace"), meta["name"], decide)
            lines.append(f"{kind}/{meta['name']} {done}")
        return lines

    def _install_daemonset(self, explicit: bool) -> tuple[str, str]:
        """What happened to the DaemonSet, and why when it was not the plain case."""
        last = Plan("keep", "")

        def decide(current: Obj | None) -> tuple[Action, Obj]:
            nonlocal last
            last = plan_daemonset(current, self.image, explicit)
            return last.action, _daemonset(self.namespace, last.image)

        done, _ = self._converge("DaemonSet", self.namespace, AGENT_NAME, decide)
        self.created = self.created or done == "created"  # a racing run that created it first keeps it
        plain = {"created": "installing", "configured": "configuring"}.get(done)
        return done, "" if last.why in ("", plain) else last.why

    def installed(self) -> Obj | None:
        return self.cluster.read("DaemonSet", self.namespace, AGENT_NAME)

    def uninstall(self, timeout: float = 60) -> list[str]:
        """Delete every object we created; wait until the namespace (and pods) are gone."""
        done = []
        namespace = self.cluster.read("Namespace", None, self.namespace)
        ours = namespace and (namespace["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "kubectl-podnet"
        for obj in reversed(self.objects()):
            kind, name = obj["kind"], obj["metadata"]["name"]
            if kind == "Namespace" and not ours:
                continue  # someone else's namespace: take only our objects out of it
            if self.cluster.delete(kind, obj["metadata"].get("namespace"), name):
                done.append(f"{kind}/{name} deleted")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self.cluster.read("Namespace", None, self.namespace) if ours else self.installed()
            if left is None:
                return done
            self.progress(f"waiting for {self.namespace} to finish terminating")
            time.sleep(1)
        raise AgentError(f"namespace {self.namespace} still terminating after {timeout:.0f}s")

    # ---- the agent pod on a node ----------------------------------------------------------

    def pod_on(self, node: str) -> Obj | None:
        pods = self.cluster.list_pods(self.namespace, LABEL_SELECTOR, node=node)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return live[0] if live else None

    def _usable(self, pod: Obj | None, image: str | None) -> bool:
        """Ready, of our spec revision or newer, and of the image asked for (if any)."""
        return (pod is not None and pod_ready(pod) and revision_of(pod) >= SPEC_REVISION
                and (image is None or image_of(pod) == image))

    def _ensure_daemonset(self) -> Obj:
        """Read the DaemonSet (install or upgrade it): once per run, whatever the node count."""
        with self._lock:
            if self._ensured is None:
                try:
                    self._ensured = self._install_with_objects()
                except PodnetError as exc:
                    self._ensured = exc
            if isinstance(self._ensured, PodnetError):
                raise self._ensured
            return self._ensured

    def _install_with_objects(self) -> Obj:
        current = self.installed()
        plan = plan_daemonset(current, self.image, explicit=False)
        if plan.action == "keep":
            assert current is not None
            return current
        since = f" from spec revision {revision_of(current)} to {SPEC_REVISION}" if current is not None else ""
        self.progress(f"{plan.why} the podnet agent ({plan.image}) in namespace {self.namespace}{since}")
        for line in self.install(explicit=False):
            if not line.endswith("unchanged"):
                self.progress(line)
        found = self.installed()
        if found is None:
            raise AgentError(f"the podnet agent DaemonSet in {self.namespace} vanished right after its install")
        return found

    def ensure_on(self, node: str, timeout: float, install: bool) -> AgentPod:
        """The ready agent pod on `node`: at once when one is there, else after installing
        or upgrading the DaemonSet (when allowed) and waiting at most `timeout`."""
        started = time.monotonic()
        pod = self.pod_on(node)
        if self._usable(pod, self.image):
            assert pod is not None
            return AgentPod(name=pod["metadata"]["name"], node=node, namespace=self.namespace)
        if not install:
            return self._wait_without_install(node, pod, started, timeout)
        daemonset = self._ensure_daemonset()
        return self._wait(node, started, timeout, image_of(daemonset), daemonset["metadata"].get("uid"))

    def _wait_without_install(self, node: str, pod: Obj | None, started: float, timeout: float) -> AgentPod:
        """--no-install: only the pods on the node tell what is there (no DaemonSet read)."""
        if pod is None:
            raise AgentError(
                f"the podnet agent is not installed in namespace {self.namespace}: no agent pod on node {node}",
                hint="run `kubectl podnet agent install` or drop --no-install",
            )
        if self.image is not None and image_of(pod) != self.image:
            raise UsageError(
                f"the podnet agent is installed with image {image_of(pod)}, not {self.image}",
                hint=switch_hint(self.image),
            )
        if revision_of(pod) < SPEC_REVISION:
            raise AgentError(
                f"the podnet agent on {node} is from an older plugin (spec revision {revision_of(pod)} < {SPEC_REVISION})",
                hint="run `kubectl podnet agent install` or drop --no-install",
            )
        return self._wait(node, started, timeout, self.image, None, events=False)

    def _wait(self, node: str, started: float, timeout: float, image: str | None, uid: str | None,
              events: bool = True) -> AgentPod:
        problem = "no agent pod on the node yet"
        seen: str | None = None
        refused: Obj | None = None
        first_refusal: str | None = None
        poll = _POLL_FIRST
        while True:
            pod = self.pod_on(node)
            name = pod["metadata"]["name"] if pod else None
            if seen and name != seen:
                self.progress(f"agent pod {seen} went away; waiting for its replacement")
            seen = name or seen
            if pod is not None:
                if self._usable(pod, image):
                    return AgentPod(name=pod["metadata"]["name"], node=node, namespace=self.namespace, fresh=True)
                problem = pod_problem(pod) or f"agent pod {name} is being replaced by the upgraded DaemonSet"
            elif events:
                refused = newest_event(
                    self.cluster.list_events(self.namespace, "DaemonSet", AGENT_NAME, "FailedCreate"), uid)
                key = str((refused or {}).get("metadata", {}).get("resourceVersion")) if refused else None
                if first_refusal is None:
                    first_refusal = key or ""
                elif key and key != first_refusal:
                    break  # a refusal that happened while we waited: it is the cause, now
            elapsed = time.monotonic() - started
            if elapsed >= timeout:
                break
            shown = f"the DaemonSet cannot create its pod: {refused.get('message')}" if refused and pod is None else problem
            self.progress(f"waiting for the podnet agent on {node}: {shown} ({elapsed:.0f}s)")
            time.sleep(min(poll, max(0.1, timeout - elapsed)))
            poll = min(poll * 1.5, _POLL_MAX)
        if pod is None and refused is not None:
            raise AgentError(
                f"the podnet agent DaemonSet cannot create its pod on {node}: {refused.get('message')}",
                hint=f"`kubectl get events -n {self.namespace}` shows it; the agent needs a namespace where "
                "privileged, hostPID and hostNetwork pods are allowed",
            )
        if problem == "no agent pod on the node yet":
            problem = (
                f"the DaemonSet has no pod on node {node}: a taint it does not tolerate, a nodeSelector, "
                "or the node is not Ready"
            )
        raise AgentError(f"the podnet agent is not ready on {node} after {timeout:.0f}s: {problem}")

    def still_there(self, agent: AgentPod) -> bool:
        """Whether `agent` is still the live agent pod on its node (not deleted meanwhile)."""
        pod = self.pod_on(agent.node)
        return pod is not None and pod["metadata"]["name"] == agent.name

    def status(self, max_parallel: int = 8, timeout: float = 10) -> list[str]:
        daemonset = self.installed()
        if daemonset is None:
            return [f"not installed (namespace {self.namespace})"]
        st = daemonset.get("status", {})
        lines = [
            f"DaemonSet {self.namespace}/{AGENT_NAME}: image {image_of(daemonset)}, "
            f"spec revision {revision_of(daemonset)} (this plugin's: {SPEC_REVISION}), "
            f"{st.get('numberReady', 0)}/{st.get('desiredNumberScheduled', 0)} ready"
        ]
        pods = self.cluster.list_pods(self.namespace, LABEL_SELECTOR)
        now = time.time()
        with ThreadPoolExecutor(max_workers=max(1, min(max_parallel, len(pods) or 1))) as pool:
            used = list(pool.map(lambda pod: self._last_used(pod, now, timeout), pods))
        for pod, last in zip(pods, used):
            node = pod.get("spec", {}).get("nodeName") or "(unscheduled)"
            lines.append(f"  {pod['metadata']['name']} on {node}: {pod_problem(pod) or 'Running'}"
                         + (f", {last}" if last else ""))
        if not st.get("numberReady"):
            refused = newest_event(self.cluster.list_events(self.namespace, "DaemonSet", AGENT_NAME, "FailedCreate"),
                                   daemonset["metadata"].get("uid"))
            if refused is not None:
                lines.append(f"  cannot create its pods: {refused.get('message')}")
        return lines

    def _last_used(self, pod: Obj, now: float, timeout: float) -> str | None:
        """When inspect last ran in this agent pod (the stamp the bootstrap leaves), read by one exec."""
        if not pod_ready(pod):
            return None
        try:
            done = self.cluster.exec(self.namespace, pod["metadata"]["name"], CONTAINER, bootstrap.last_used_command(),
                                     None, timeout)
        except PodnetError as exc:
            return f"last use unknown ({exc.one_line()})"
        return last_used_text(done.stdout.decode(errors="replace"), now)

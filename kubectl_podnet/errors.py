"""One error tree and one exit-code table for the whole tool.

Every failure the user can cause or meet is a `PodnetError` subclass carrying its
exit status; the CLI maps them in one place (`cli.app.main`), and anything else that
escapes is a bug of ours, `ExitStatus.INTERNAL`, so CI tells a plugin bug from a flaky
cluster. Library errors are chained as the cause (`raise ClusterError(...) from exc`) so
that PODNET_DEBUG=1 shows them with the traceback, while the user sees one line.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    OK = 0  # every check passed (warnings allowed)
    CHECK_FAILED = 1  # at least one check failed
    USAGE = 2  # bad usage or input
    CLUSTER = 3  # cluster or agent trouble: not found, not scheduled, forbidden, timeout
    INTERNAL = 4  # a bug of this plugin: not the cluster's fault, please report it

    @classmethod
    def of_verdict(cls, verdict: str) -> ExitStatus:
        """A report's or a connect's verdict as the exit status: the one place it is decided."""
        return cls.CHECK_FAILED if verdict == "fail" else cls.OK


class PodnetError(Exception):
    exit_status: ExitStatus = ExitStatus.CLUSTER

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message if not self.hint else f"{self.message} ({self.hint})"
        return " ".join(text.split())

    def __str__(self) -> str:
        return self.one_line()


class UsageError(PodnetError):
    """The user gave input we cannot act on (bad uid, bad container id, bad flag value)."""

    exit_status = ExitStatus.USAGE


class NodeError(PodnetError):
    """The node side could not gather facts (pod not on this node, not root, netns gone)."""


class ClusterError(PodnetError):
    """The API server said no, or the pod is not in a state we can inspect."""


class AgentError(PodnetError):
    """The agent DaemonSet is missing, not ready, or its exec failed."""


class NoPodProcess(NodeError):
    """The agent found no process of the pod: the client re-reads the pod to say why."""


class AlreadyExists(ClusterError):
    """A create answered 409 AlreadyExists: someone else created the object first."""


class Conflict(ClusterError):
    """A replace answered 409 Conflict: the object changed since it was read."""

"""The cluster port: everything the client needs from Kubernetes, as one Protocol.

The real adapter (`kube.py`) is the only module that imports the `kubernetes` client;
tests use a fake of this Protocol, never a mocked urllib3. Payloads are raw API dicts
in the server's camelCase, as `kubectl get -o json` prints them.

The port moves objects and decides nothing: `create` and `replace` are the API's own
verbs (a 409 comes back as `AlreadyExists` or `Conflict`), and whether an object is
created, unchanged or configured is decided by the agent manager, in pure code.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterator
from typing import Any, Protocol

Obj = dict[str, Any]


@dataclass(frozen=True)
class ExecResult:
    exit_code: int | None  # None: the status channel was lost (timeout, race)
    stdout: bytes
    stderr: str


class ClusterPort(Protocol):
    default_namespace: str

    def read_pod(self, namespace: str, name: str) -> Obj: ...

    def list_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> list[Obj]: ...
    # namespace None: every namespace; label_selector "": every pod

    def iter_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> Iterator[Obj]: ...
    # the same pods, as the pages arrive (a sweep of a big cluster holds one page, not all)

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None: ...

    def list_objects(self, kind: str, namespace: str | None) -> list[Obj]: ...  # e.g. NetworkPolicy of a namespace

    def create(self, obj: Obj) -> Obj: ...  # the stored object; AlreadyExists on 409

    def replace(self, obj: Obj) -> Obj: ...  # obj carries the resourceVersion read; Conflict on 409

    def delete(self, kind: str, namespace: str | None, name: str) -> bool: ...

    def list_events(self, namespace: str, involved_kind: str, involved_name: str, reason: str) -> list[Obj]: ...

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: bytes | None, timeout: float
    ) -> ExecResult: ...

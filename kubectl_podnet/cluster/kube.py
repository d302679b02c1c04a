"""The only module that imports the `kubernetes` client: the real ClusterPort.

Every client error is turned into our own error tree here, with the client's exception
chained as the cause, so nothing above this module knows urllib3 or ApiException.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream import stream

from kubectl_podnet.cluster.port import ExecResult, Obj
from kubectl_podnet.errors import ClusterError, PodnetError, UsageError

SPEC_HASH = "podnet.io/spec-hash"
_CHUNK = 256 * 1024  # larger websocket frames get the connection reset


def _spec_hash(obj: Obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def _api_error(exc: ApiException, what: str) -> PodnetError:
    status = exc.status
    message = ""
    try:
        message = json.loads(exc.body or "{}").get("message", "")
    except ValueError:
        message = (exc.body or exc.reason or "").strip()
    if status == 404:
        return ClusterError(f"{what}: not found", hint=message or None)
    if status == 403 or "403" in str(exc.reason):
        return ClusterError(f"{what}: forbidden", hint=message or str(exc.reason).splitlines()[0])
    if status == 401:
        return ClusterError(f"{what}: unauthorized (are your kubeconfig credentials valid?)")
    reason = message or str(exc.reason).splitlines()[0] if exc.reason else message
    return ClusterError(f"{what}: API error {status or ''} {reason}".strip())


class KubeCluster:
    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        if kubeconfig is not None and not os.path.isfile(kubeconfig):
            raise UsageError(f"kubeconfig {kubeconfig} does not exist")
        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        except ConfigException as exc:
            text = str(exc)
            if context and "context" in text.lower():
                raise UsageError(f"context {context!r} is not in the kubeconfig") from exc
            raise ClusterError(f"cannot load a kubeconfig: {text}", hint="set KUBECONFIG or pass --kubeconfig") from exc
        self.default_namespace = self._context_namespace(kubeconfig, context)
        self._api = client.ApiClient(configuration)
        # stream() swaps the ApiClient's request method while it runs: exec gets its own
        self._exec_api = client.ApiClient(configuration)
        self.core = client.CoreV1Api(self._api)
        self.apps = client.AppsV1Api(self._api)
        self.server = configuration.host

    @staticmethod
    def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
        try:
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
        except (ConfigException, OSError):
            return "default"
        chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
        return str(((chosen or {}).get("context") or {}).get("namespace") or "default")

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, _request_timeout=20, **kwargs)
        except ApiException as exc:
            raise _api_error(exc, what) from exc
        except Exception as exc:  # urllib3 / socket errors: the server is not reachable
            if isinstance(exc, PodnetError):
                raise
            raise ClusterError(f"cannot reach the API server at {self.server}: {exc.__class__.__name__}") from exc

    def _dict(self, obj: Any) -> Obj:
        return dict(self._api.sanitize_for_serialization(obj))

    def read_pod(self, namespace: str, name: str) -> Obj:
        return self._dict(self._call(f"pod {namespace}/{name}", self.core.read_namespaced_pod, name, namespace))

    def list_pods(self, namespace: str, label_selector: str, node: str | None = None) -> list[Obj]:
        kwargs: dict[str, str] = {"label_selector": label_selector}
        if node:
            kwargs["field_selector"] = f"spec.nodeName={node}"
        found = self._call(f"pods in {namespace}", self.core.list_namespaced_pod, namespace, **kwargs)
        return [self._dict(item) for item in found.items]

    def events_for(self, namespace: str, name: str) -> list[Obj]:
        found = self._call(
            f"events of {name}", self.core.list_namespaced_event, namespace,
            field_selector=f"involvedObject.name={name}",
        )
        return [self._dict(item) for item in found.items]

    def _methods(self, kind: str) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
        table = {
            "Namespace": (self.core.read_namespace, self.core.create_namespace, self.core.replace_namespace,
                          self.core.delete_namespace),
            "ServiceAccount": (self.core.read_namespaced_service_account, self.core.create_namespaced_service_account,
                               self.core.replace_namespaced_service_account,
                               self.core.delete_namespaced_service_account),
            "DaemonSet": (self.apps.read_namespaced_daemon_set, self.apps.create_namespaced_daemon_set,
                          self.apps.replace_namespaced_daemon_set, self.apps.delete_namespaced_daemon_set),
        }
        if kind not in table:
            raise ValueError(f"unsupported kind {kind}")
        return table[kind]

    @staticmethod
    def _args(namespace: str | None, *rest: Any) -> tuple[Any, ...]:
        return rest + ((namespace,) if namespace else ())

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        read, _, _, _ = self._methods(kind)
        try:
            return self._dict(read(*self._args(namespace, name), _request_timeout=20))
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise _api_error(exc, f"{kind} {name}") from exc

    def apply(self, obj: Obj) -> str:
        """Create, or replace when our spec hash changed; report what happened."""
        kind, meta = obj["kind"], obj["metadata"]
        name, namespace = meta["name"], meta.get("namespace")
        desired = json.loads(json.dumps(obj))
        desired["metadata"].setdefault("annotations", {})[SPEC_HASH] = _spec_hash(obj)
        _, create, replace, _ = self._methods(kind)
        current = self.read(kind, namespace, name)
        what = f"{kind} {name}"
        if current is None:
            self._call(what, create, *self._args(namespace), body=desired)
            return "created"
        if (current["metadata"].get("annotations") or {}).get(SPEC_HASH) == desired["metadata"]["annotations"][SPEC_HASH]:
            return "unchanged"
        desired["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        self._call(what, replace, *self._args(namespace, name), body=desired)
        return "configured"

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        _, _, _, delete = self._methods(kind)
        try:
            delete(*self._args(namespace, name), _request_timeout=20)
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise _api_error(exc, f"delete {kind} {name}") from exc

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: bytes | None, timeout: float
    ) -> ExecResult:
        what = f"exec in pod {namespace}/{pod}"
        api = client.CoreV1Api(self._exec_api)
        deadline = time.monotonic() + timeout
        try:
            ws = stream(
                api.connect_get_namespaced_pod_exec, pod, namespace,
                container=container, command=argv, stdin=stdin is not None,
                stdout=True, stderr=True, tty=False, _preload_content=False, binary=True,
            )
        except ApiException as exc:
            raise _api_error(exc, what) from exc
        out, err = bytearray(), bytearray()
        try:
            if stdin is not None:
                for start in range(0, len(stdin), _CHUNK):
                    ws.write_stdin(stdin[start : start + _CHUNK])
                    ws.update(timeout=0)
                    out += ws.read_stdout(timeout=0)
                    err += ws.read_stderr(timeout=0)
            # _request_timeout does not apply with _preload_content=False: keep our own deadline
            while ws.is_open():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ClusterError(f"{what}: no answer within {timeout:.0f}s")
                ws.update(timeout=min(remaining, 1.0))
                out += ws.read_stdout(timeout=0)
                err += ws.read_stderr(timeout=0)
            out += ws.read_stdout(timeout=0)
            err += ws.read_stderr(timeout=0)
            try:
                code: int | None = ws.returncode
            except (KeyError, IndexError, TypeError, ValueError, AttributeError):
                code = None
        except ApiException as exc:
            raise _api_error(exc, what) from exc
        except PodnetError:
            raise
        except Exception as exc:  # websocket closed under us: the pod went away mid-exec
            raise ClusterError(f"{what}: connection lost ({exc.__class__.__name__}: {exc})") from exc
        finally:
            ws.close()
        return ExecResult(exit_code=code, stdout=bytes(out), stderr=err.decode("utf-8", "replace"))

"""The only module that imports the `kubernetes` client: the real ClusterPort.

We use the official client's transport layer (kubeconfig loading with every auth plugin,
`ApiClient` for TLS and tokens, its websocket exec) and speak JSON ourselves: the
generated API classes and their models cost ~1 s of import time per run, and we want
raw API dicts anyway. Every client error is turned into our own error tree here, with
the client's exception chained as the cause.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any
from urllib.parse import quote

from kubernetes import config
from kubernetes.client.api_client import ApiClient
from kubernetes.client.configuration import Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream.ws_client import websocket_call

from kubectl_podnet.cluster.manifests import spec_hash
from kubectl_podnet.cluster.port import ExecResult, Obj
from kubectl_podnet.errors import ClusterError, PodnetError, UsageError

_CHUNK = 256 * 1024  # larger websocket frames get the connection reset
_TIMEOUT = 20
# kind -> (collection path with {namespace} when namespaced)
_PATHS = {
    "Namespace": "/api/v1/namespaces",
    "ServiceAccount": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "DaemonSet": "/apis/apps/v1/namespaces/{namespace}/daemonsets",
    "Pod": "/api/v1/namespaces/{namespace}/pods",
    "Event": "/api/v1/namespaces/{namespace}/events",
}


def _message(body: bytes | str | None) -> str:
    try:
        return str(json.loads(body or b"{}").get("message", ""))
    except (ValueError, AttributeError):
        return (body.decode(errors="replace") if isinstance(body, bytes) else body or "").strip()[:200]


def _status_error(status: int, message: str, what: str) -> PodnetError:
    if status == 404:
        return ClusterError(f"{what}: not found", hint=message or None)
    if status == 403:
        return ClusterError(f"{what}: forbidden", hint=message or None)
    if status == 401:
        return ClusterError(f"{what}: unauthorized (are your kubeconfig credentials valid?)")
    return ClusterError(f"{what}: API error {status} {message}".strip())


def _handshake_error(reason: str, what: str) -> PodnetError:
    """websocket-client's "Handshake status 403 Forbidden -+-+- {headers} -+-+- {body}"."""
    parts = reason.split(" -+-+- ")
    words = parts[0].split()
    if len(words) >= 3 and words[:2] == ["Handshake", "status"] and words[2].isdigit():
        body = parts[-1] if len(parts) == 3 and parts[-1] != "None" else ""
        return _status_error(int(words[2]), _message(body), what)
    return ClusterError(f"{what}: {reason.splitlines()[0] if reason else 'failed'}")


class KubeCluster:
    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        if kubeconfig is not None and not os.path.isfile(kubeconfig):
            raise UsageError(f"kubeconfig {kubeconfig} does not exist")
        configuration = Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        except ConfigException as exc:
            text = str(exc)
            if context and "context" in text.lower():
                raise UsageError(f"context {context!r} is not in the kubeconfig") from exc
            raise ClusterError(f"cannot load a kubeconfig: {text}", hint="set KUBECONFIG or pass --kubeconfig") from exc
        self.default_namespace = self._context_namespace(kubeconfig, context)
        self.configuration = configuration
        self.api = ApiClient(configuration)
        self.server = configuration.host

    @staticmethod
    def _context_namespace(kubeconfig: str | None, context: str | None) -> str:
        try:
            contexts, active = config.list_kube_config_contexts(config_file=kubeconfig)
        except (ConfigException, OSError):
            return "default"
        chosen = next((c for c in contexts if c.get("name") == context), active) if context else active
        return str(((chosen or {}).get("context") or {}).get("namespace") or "default")

    # ---- transport ---------------------------------------------------------------------

    def _prepare(self, method: str, path: str, query: list[tuple[str, Any]] | None, body: Obj | None,
                 accept: str = "application/json") -> tuple[str, str, dict[str, str], Any]:
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        method, url, headers, body, _ = self.api.param_serialize(
            method, path, query_params=query, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        return method, url, headers, body

    def _request(self, method: str, path: str, what: str, query: list[tuple[str, Any]] | None = None,
                 body: Obj | None = None, missing_ok: bool = False) -> Obj | None:
        try:
            prepared = self._prepare(method, path, query, body)
            response = self.api.call_api(*prepared[:2], header_params=prepared[2], body=prepared[3],
                                         _request_timeout=_TIMEOUT)
            data = response.read()
        except ApiException as exc:
            raise _status_error(exc.status or 0, _message(exc.body), what) from exc
        except Exception as exc:  # urllib3 / socket / TLS: the server is not reachable
            raise ClusterError(f"cannot reach the API server at {self.server}: {exc.__class__.__name__}") from exc
        if response.status == 404 and missing_ok:
            return None
        if response.status >= 400:
            raise _status_error(response.status, _message(data), what)
        return dict(json.loads(data)) if data else {}

    @staticmethod
    def _path(kind: str, namespace: str | None, name: str | None = None) -> str:
        path = _PATHS[kind].replace("{namespace}", quote(namespace or "", safe=""))
        return f"{path}/{quote(name, safe='')}" if name else path

    # ---- the port ----------------------------------------------------------------------

    def read_pod(self, namespace: str, name: str) -> Obj:
        found = self._request("GET", self._path("Pod", namespace, name), f"pod {namespace}/{name}")
        assert found is not None
        return found

    def list_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> list[Obj]:
        query = [("labelSelector", label_selector)] + ([("fieldSelector", f"spec.nodeName={node}")] if node else [])
        path = self._path("Pod", namespace) if namespace is not None else "/api/v1/pods"  # None: every namespace
        found = self._request("GET", path, f"pods in {namespace or 'every namespace'}", query) or {}
        return list(found.get("items") or [])

    def events_for(self, namespace: str, name: str) -> list[Obj]:
        query = [("fieldSelector", f"involvedObject.name={name}")]
        found = self._request("GET", self._path("Event", namespace), f"events of {name}", query) or {}
        return list(found.get("items") or [])

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._request("GET", self._path(kind, namespace, name), f"{kind} {name}", missing_ok=True)

    def apply(self, obj: Obj) -> str:
        """Create, or replace when the spec hash annotation differs; say what happened."""
        kind, meta = obj["kind"], obj["metadata"]
        name, namespace = meta["name"], meta.get("namespace")
        desired: Obj = json.loads(json.dumps(obj))
        current = self.read(kind, namespace, name)
        what = f"{kind} {name}"
        if current is None:
            self._request("POST", self._path(kind, namespace), what, body=desired)
            return "created"
        if spec_hash(desired) is not None and spec_hash(current) == spec_hash(desired):
            return "unchanged"
        desired["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        self._request("PUT", self._path(kind, namespace, name), what, body=desired)
        return "configured"

    def delete(self, kind: str, namespace: str | None, name: str) -> bool:
        found = self._request("DELETE", self._path(kind, namespace, name), f"delete {kind} {name}", missing_ok=True)
        return found is not None

    def exec(
        self, namespace: str, pod: str, container: str, argv: list[str], stdin: bytes | None, timeout: float
    ) -> ExecResult:
        what = f"exec in pod {namespace}/{pod}"
        query: list[tuple[str, Any]] = [("command", arg) for arg in argv] + [
            ("container", container), ("stdin", stdin is not None), ("stdout", True), ("stderr", True), ("tty", False),
        ]
        deadline = time.monotonic() + timeout
        _, url, headers, _ = self._prepare("GET", self._path("Pod", namespace, pod) + "/exec", query, None, "*/*")
        try:
            ws = websocket_call(self.configuration, "GET", url, headers=headers, _preload_content=False, binary=True)
        except ApiException as exc:  # the websocket handshake was refused
            raise _handshake_error(str(exc.reason or ""), what) from exc
        out, err = bytearray(), bytearray()
        try:
            if stdin is not None:
                for start in range(0, len(stdin), _CHUNK):
                    ws.write_stdin(stdin[start : start + _CHUNK])
                    ws.update(timeout=0)
                    out += ws.read_stdout(timeout=0)
                    err += ws.read_stderr(timeout=0)
            # _request_timeout does not apply to a websocket: keep our own deadline
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
                code = None  # the status channel was lost: the agent's envelope carries its code
        except PodnetError:
            raise
        except Exception as exc:  # websocket closed under us: the pod went away mid-exec
            raise ClusterError(f"{what}: connection lost ({exc.__class__.__name__}: {exc})") from exc
        finally:
            ws.close()
        return ExecResult(exit_code=code, stdout=bytes(out), stderr=err.decode("utf-8", "replace"))

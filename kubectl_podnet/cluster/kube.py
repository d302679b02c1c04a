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
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
import yaml
from kubernetes import config
from kubernetes.client.api_client import ApiClient
from kubernetes.client.configuration import Configuration
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from kubernetes.stream.ws_client import websocket_call
from websocket import WebSocketException, setdefaulttimeout

from kubectl_podnet.cluster.port import ExecResult, Obj
from kubectl_podnet.errors import AlreadyExists, ClusterError, Conflict, PodnetError, UsageError

_CHUNK = 256 * 1024  # larger websocket frames get the connection reset
REQUEST_TIMEOUT = 20.0  # one API call, connect and read each; never retried behind our back
_PAGE = 500  # pods per list page (kubectl get uses 500 too)
# kind -> (collection path with {namespace} when namespaced)
_PATHS = {
    "Namespace": "/api/v1/namespaces",
    "ServiceAccount": "/api/v1/namespaces/{namespace}/serviceaccounts",
    "DaemonSet": "/apis/apps/v1/namespaces/{namespace}/daemonsets",
    "Pod": "/api/v1/namespaces/{namespace}/pods",
    "Event": "/api/v1/namespaces/{namespace}/events",
    "Node": "/api/v1/nodes",
    "NetworkPolicy": "/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies",
}


def _status(body: bytes | str | None) -> dict[str, Any]:
    try:
        found = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return {"message": (body.decode(errors="replace") if isinstance(body, bytes) else body or "").strip()[:200]}
    return found if isinstance(found, dict) else {}


def _message(body: bytes | str | None) -> str:
    return str(_status(body).get("message", ""))


def _status_error(status: int, message: str, what: str, reason: str = "") -> PodnetError:
    if status == 404:
        return ClusterError(f"{what}: not found", hint=message or None)
    if status == 403:
        return ClusterError(f"{what}: forbidden", hint=message or None)
    if status == 401:
        return ClusterError(f"{what}: unauthorized (are your kubeconfig credentials valid?)")
    if status == 409:
        kind = AlreadyExists if reason == "AlreadyExists" else Conflict
        return kind(f"{what}: {reason or 'conflict'}", hint=message or None)
    return ClusterError(f"{what}: API error {status} {message}".strip())


def _handshake_error(reason: str, what: str) -> PodnetError:
    """websocket-client's "Handshake status 403 Forbidden -+-+- {headers} -+-+- {body}"."""
    parts = reason.split(" -+-+- ")
    words = parts[0].split()
    if len(words) >= 3 and words[:2] == ["Handshake", "status"] and words[2].isdigit():
        body = parts[-1] if len(parts) == 3 and parts[-1] != "None" else ""
        return _status_error(int(words[2]), _message(body), what)
    return ClusterError(f"{what}: {reason.splitlines()[0] if reason else 'failed'}")


def transport_problem(exc: BaseException, server: str, ca: str, timeout: float) -> str:
    """Why a request never got an HTTP answer, in words a user can act on. Pure."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__ or getattr(cause, "reason", None)
        cause = cause if isinstance(cause, BaseException) else None
    text = " ".join(str(c) for c in chain)
    host = urlsplit(server).hostname or server
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        detail = text.split("certificate verify failed:", 1)[-1].split("(_ssl.c", 1)[0].strip(" ')\"")
        detail = detail.rstrip('.') or 'certificate verify failed'
        return f"TLS verification of {server} failed ({detail}; name checked: {host}; CA: {ca})"
    if any(isinstance(c, ConnectionRefusedError) for c in chain) or "Connection refused" in text:
        return f"connection to {server} refused (is the API server running, and is this the right address?)"
    if any(isinstance(c, urllib3.exceptions.NameResolutionError) for c in chain) or "Name or service not known" in text:
        return f"cannot resolve the host name {host} of {server}"
    if any(isinstance(c, (urllib3.exceptions.TimeoutError, TimeoutError)) for c in chain) or "timed out" in text:
        return f"{server} did not answer within {timeout:g}s (timed out)"
    if any(isinstance(c, urllib3.exceptions.SSLError) for c in chain) or "SSL" in text:
        return f"TLS handshake with {server} failed: {str(chain[-1]).splitlines()[0][:200]}"
    return f"cannot reach the API server at {server}: {str(chain[-1]).splitlines()[0][:200] or type(chain[-1]).__name__}"


def _kubeconfig_files(kubeconfig: str | None) -> list[str]:
    if kubeconfig is not None:
        return [kubeconfig]
    listed = os.environ.get("KUBECONFIG")
    paths = [p for p in listed.split(os.pathsep) if p] if listed else [os.path.expanduser("~/.kube/config")]
    return [p for p in paths if os.path.exists(p)]


def read_kubeconfig(path: str) -> dict[str, Any]:
    """One kubeconfig file as a mapping, or a UsageError naming the file and what is wrong."""
    try:
        with open(path, encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"kubeconfig {path} cannot be read: {exc}") from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UsageError(f"kubeconfig {path} is not YAML: {problem}{line}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UsageError(f"kubeconfig {path} is not a kubeconfig: a YAML mapping with clusters, users and contexts")
    return loaded


def _ca_of(configs: list[dict[str, Any]], server: str) -> str:
    """Where the CA that verifies `server` comes from, as a user would look for it."""
    for loaded in configs:
        for entry in loaded.get("clusters") or []:
            cluster = (entry or {}).get("cluster") or {} if isinstance(entry, dict) else {}
            if isinstance(cluster, dict) and cluster.get("server") == server:
                if cluster.get("certificate-authority"):
                    return str(cluster["certificate-authority"])
                if cluster.get("certificate-authority-data"):
                    return f"certificate-authority-data of cluster {entry.get('name')!r} in the kubeconfig"
    return "the system's CA bundle"


class KubeCluster:
    def __init__(
        self, kubeconfig: str | None = None, context: str | None = None, request_timeout: float = REQUEST_TIMEOUT
    ) -> None:
        if kubeconfig is not None and not os.path.isfile(kubeconfig):
            raise UsageError(f"kubeconfig {kubeconfig} does not exist")
        configs = [read_kubeconfig(path) for path in _kubeconfig_files(kubeconfig)]
        configuration = Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration)
        except ConfigException as exc:
            text = str(exc)
            if context and "context" in text.lower():
                raise UsageError(f"context {context!r} is not in the kubeconfig") from exc
            raise ClusterError(f"cannot load a kubeconfig: {text}", hint="set KUBECONFIG or pass --kubeconfig") from exc
        # urllib3 retries a failed connection 3 times by default, each with the full timeout;
        # we say what went wrong after one attempt instead
        configuration.retries = False
        self.default_namespace = self._context_namespace(kubeconfig, context)
        self.configuration = configuration
        self.request_timeout = request_timeout
        setdefaulttimeout(request_timeout)  # the exec websocket's connect and handshake
        self.api = ApiClient(configuration)
        self.server = str(configuration.host)
        self.ca = _ca_of(configs, self.server)

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

    def _unreachable(self, exc: BaseException) -> ClusterError:
        return ClusterError(transport_problem(exc, self.server, self.ca, self.request_timeout))

    def _request(self, method: str, path: str, what: str, query: list[tuple[str, Any]] | None = None,
                 body: Obj | None = None, missing_ok: bool = False, accept: str = "application/json",
                 timeout: float | None = None) -> Obj | None:
        try:
            prepared = self._prepare(method, path, query, body, accept)
            response = self.api.call_api(*prepared[:2], header_params=prepared[2], body=prepared[3],
                                         _request_timeout=timeout or self.request_timeout)
            data = response.read()
        except ApiException as exc:
            if not exc.status:  # the client wraps TLS failures as a status-0 ApiException
                raise self._unreachable(exc) from exc
            status = _status(exc.body)
            raise _status_error(exc.status, str(status.get("message", "")), what, str(status.get("reason", ""))) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(exc) from exc
        if response.status == 404 and missing_ok:
            return None
        if response.status >= 400:
            status = _status(data)
            raise _status_error(response.status, str(status.get("message", "")), what, str(status.get("reason", "")))
        try:
            found = json.loads(data) if data else {}
        except (ValueError, RecursionError) as exc:
            raise ClusterError(f"{what}: {self.server} answered something that is not JSON") from exc
        if not isinstance(found, dict):
            raise ClusterError(f"{what}: {self.server} answered JSON that is not an object")
        return found

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
        return list(self.iter_pods(namespace, label_selector, node))

    def iter_pods(self, namespace: str | None, label_selector: str, node: str | None = None) -> Iterator[Obj]:
        """Pods of a namespace (None: all), a page of _PAGE at a time: a big cluster's list
        never arrives as one response, and a sweep keeps no more than a page of raw pods."""
        path = self._path("Pod", namespace) if namespace is not None else "/api/v1/pods"
        what = f"pods in {namespace}" if namespace is not None else "pods in all namespaces"
        query: list[tuple[str, Any]] = [("limit", _PAGE)]
        query += [("labelSelector", label_selector)] if label_selector else []
        query += [("fieldSelector", f"spec.nodeName={node}")] if node else []
        token = ""
        while True:
            found = self._request("GET", path, what, query + ([("continue", token)] if token else [])) or {}
            yield from found.get("items") or []
            token = str((found.get("metadata") or {}).get("continue") or "")
            if not token:
                return

    def list_events(self, namespace: str, involved_kind: str, involved_name: str, reason: str) -> list[Obj]:
        selector = f"involvedObject.kind={involved_kind},involvedObject.name={involved_name},reason={reason}"
        found = self._request("GET", self._path("Event", namespace), f"events of {involved_kind} {involved_name}",
                              [("fieldSelector", selector)]) or {}
        return list(found.get("items") or [])

    def list_objects(self, kind: str, namespace: str | None) -> list[Obj]:
        found = self._request("GET", self._path(kind, namespace), f"list {kind} in {namespace}") or {}
        return list(found.get("items") or [])

    def read(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._request("GET", self._path(kind, namespace, name), f"{kind} {name}", missing_ok=True)

    def create(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        created = self._request("POST", self._path(obj["kind"], meta.get("namespace")), f"create {obj['kind']} {meta['name']}",
                                body=obj)
        assert created is not None
        return created

    def replace(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        path = self._path(obj["kind"], meta.get("namespace"), meta["name"])
        replaced = self._request("PUT", path, f"replace {obj['kind']} {meta['name']}", body=obj)
        assert replaced is not None
        return replaced

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
        except ApiException as exc:  # the websocket handshake was refused, or never happened
            reason = str(exc.reason or "")
            if reason.startswith("Handshake status"):
                raise _handshake_error(reason, what) from exc
            raise ClusterError(f"{what}: {transport_problem(exc, self.server, self.ca, self.request_timeout)}") from exc
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
        except (WebSocketException, OSError) as exc:  # closed under us: the pod or its node went away mid-exec
            raise ClusterError(f"{what}: connection lost ({exc.__class__.__name__}: {exc})") from exc
        finally:
            ws.close()
        return ExecResult(exit_code=code, stdout=bytes(out), stderr=err.decode("utf-8", "replace"))

    # ---- completion ----------------------------------------------------------------------

    def names(self, kind: str, namespace: str | None, timeout: float) -> list[str]:
        """Names of Pods, Namespaces or Nodes for shell completion: metadata only, short timeout."""
        path = {"Namespace": "/api/v1/namespaces", "Node": "/api/v1/nodes"}.get(kind) or self._path(kind, namespace)
        accept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
        found = self._request("GET", path, f"list {kind}", accept=accept, timeout=timeout) or {}
        return [str(item["metadata"]["name"]) for item in found.get("items") or []]


def context_names(kubeconfig: str | None) -> list[str]:
    """The kubeconfig's context names (completion); no API call."""
    try:
        contexts, _ = config.list_kube_config_contexts(config_file=kubeconfig)
    except (ConfigException, OSError) as exc:
        raise UsageError(f"cannot read the kubeconfig: {exc}") from exc
    return [str(c["name"]) for c in contexts or [] if c.get("name")]

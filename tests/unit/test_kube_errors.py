"""How the real adapter words API failures (pure parts of kube.py; no server needed)."""

from __future__ import annotations

import json

from kubectl_podnet.cluster.kube import _handshake_error, _status_error


def test_a_refused_exec_handshake_keeps_the_servers_reason() -> None:
    body = json.dumps({"kind": "Status", "message": 'pods "web" is forbidden: User "system:serviceaccount:t:viewer" '
                       'cannot create resource "pods/exec" in API group "" in the namespace "t"', "code": 403})
    reason = f"Handshake status 403 Forbidden -+-+- {{'content-type': 'application/json'}} -+-+- {body}"
    error = _handshake_error(reason, "exec in pod t/web")
    assert error.one_line() == (
        'exec in pod t/web: forbidden (pods "web" is forbidden: User "system:serviceaccount:t:viewer" '
        'cannot create resource "pods/exec" in API group "" in the namespace "t")'
    )
    assert int(error.exit_status) == 3


def test_a_handshake_without_a_body_still_names_the_status() -> None:
    assert _handshake_error("Handshake status 404 Not Found -+-+- {} -+-+- None", "exec").one_line() == "exec: not found"


def test_anything_else_is_its_first_line() -> None:
    assert _handshake_error("Connection refused\nmore", "exec").one_line() == "exec: Connection refused"


def test_status_errors_by_code() -> None:
    assert _status_error(401, "", "pod a/b").one_line() == "pod a/b: unauthorized (are your kubeconfig credentials valid?)"
    assert _status_error(500, "etcd timeout", "pod a/b").one_line() == "pod a/b: API error 500 etcd timeout"


# ---- an unreachable API server is named, after one attempt ----------------------------------
# Real sockets on loopback stand in for a broken API server: refused, silent, wrong certificate.

import socket  # noqa: E402
import ssl  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from kubectl_podnet.cluster.kube import KubeCluster  # noqa: E402
from kubectl_podnet.errors import ClusterError  # noqa: E402


def _kubeconfig(path: Path, server: str, ca: Path | None = None) -> str:
    cluster = f"    certificate-authority: {ca}\n" if ca else "    insecure-skip-tls-verify: false\n"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: k\n  cluster:\n    server: {server}\n{cluster}"
        "users:\n- name: u\n  user:\n    token: t\n"
        "contexts:\n- name: c\n  context:\n    cluster: k\n    user: u\n"
    )
    return str(path)


class Listener:
    """A loopback TCP server that counts connections and does `serve` with each."""

    def __init__(self, serve: str, context: ssl.SSLContext | None = None) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.held: list[socket.socket] = []
        self.serve, self.context = serve, context
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.serve == "silent":
                self.held.append(conn)  # accept and never answer
            elif self.context is not None:
                try:
                    self.context.wrap_socket(conn, server_side=True).close()
                except (ssl.SSLError, OSError):
                    conn.close()

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


def _self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def listeners() -> Iterator[list[Listener]]:
    made: list[Listener] = []
    yield made
    for listener in made:
        listener.close()


def test_a_refused_connection_is_named_as_refused(tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    cluster = KubeCluster(_kubeconfig(tmp_path / "config", f"https://127.0.0.1:{port}"))
    with pytest.raises(ClusterError) as raised:
        cluster.read_pod("default", "web")
    assert raised.value.one_line() == (
        f"connection to https://127.0.0.1:{port} refused (is the API server running, and is this the right address?)"
    )


def test_a_silent_server_times_out_once_without_hidden_retries(tmp_path: Path, listeners: list[Listener]) -> None:
    silent = Listener("silent")
    listeners.append(silent)
    cluster = KubeCluster(_kubeconfig(tmp_path / "config", f"https://127.0.0.1:{silent.port}"), request_timeout=0.5)
    with pytest.raises(ClusterError) as raised:
        cluster.read_pod("default", "web")
    assert raised.value.one_line() == f"https://127.0.0.1:{silent.port} did not answer within 0.5s (timed out)"
    assert silent.accepted == 1  # urllib3's default would have connected 4 times, each with the full timeout


def test_a_certificate_from_another_ca_names_the_ca_and_the_name_checked(
    tmp_path: Path, listeners: list[Listener]
) -> None:
    server_cert, server_key = _self_signed(tmp_path, "localhost")
    other_ca, _ = _self_signed(tmp_path, "other-ca")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_cert, server_key)
    server = Listener("tls", context)
    listeners.append(server)
    cluster = KubeCluster(_kubeconfig(tmp_path / "config", f"https://localhost:{server.port}", ca=other_ca))
    with pytest.raises(ClusterError) as raised:
        cluster.list_pods("default", "app=web")
    line = raised.value.one_line()
    assert line.startswith(f"TLS verification of https://localhost:{server.port} failed (")
    assert line.endswith(f"; name checked: localhost; CA: {other_ca})")
    assert server.accepted == 1

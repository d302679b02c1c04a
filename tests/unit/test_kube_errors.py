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

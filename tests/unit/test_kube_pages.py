"""The real adapter lists pods in pages (limit + continue), against a real HTTP server on loopback.

The server is a stand-in for the API server's list endpoint only: it answers pages of a
fixed pod list, with a continue token until the last, and records what it was asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from kubectl_podnet.cluster.kube import KubeCluster

PODS = [{"metadata": {"name": f"p{i:04d}", "namespace": "shop" if i % 2 else "ops"}} for i in range(1203)]


class _Pages(BaseHTTPRequestHandler):
    asked: list[tuple[str, dict[str, list[str]]]] = []

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        self.asked.append((url.path, query))
        namespace = url.path.split("/")[4] if url.path.startswith("/api/v1/namespaces/") else None
        pods = [p for p in PODS if namespace is None or p["metadata"]["namespace"] == namespace]
        start = int(query.get("continue", ["0"])[0])
        limit = int(query["limit"][0])
        page: dict[str, Any] = {"kind": "PodList", "metadata": {}, "items": pods[start : start + limit]}
        if start + limit < len(pods):
            page["metadata"]["continue"] = str(start + limit)
        body = json.dumps(page).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        return None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[KubeCluster]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = tmp_path / "config"
    config.write_text(
        f"apiVersion: v1\nkind: Config\ncurrent-context: k\nclusters:\n- name: k\n  cluster:\n"
        f"    server: http://127.0.0.1:{server.server_address[1]}\nusers:\n- name: u\n  user: {{}}\n"
        "contexts:\n- name: k\n  context: {cluster: k, user: u}\n"
    )
    _Pages.asked = []
    try:
        yield KubeCluster(str(config))
    finally:
        server.shutdown()
        server.server_close()


def test_every_namespace_is_listed_in_pages_until_no_continue_token(cluster: KubeCluster) -> None:
    names = [pod["metadata"]["name"] for pod in cluster.iter_pods(None, "")]
    assert names == [pod["metadata"]["name"] for pod in PODS]
    assert [path for path, _ in _Pages.asked] == ["/api/v1/pods"] * 3
    assert [query.get("continue") for _, query in _Pages.asked] == [None, ["500"], ["1000"]]
    assert all(query["limit"] == ["500"] and "labelSelector" not in query for _, query in _Pages.asked)


def test_a_namespace_selector_and_node_go_to_the_server(cluster: KubeCluster) -> None:
    pods = cluster.list_pods("shop", "app=web", node="node-1")
    assert len(pods) == 601 and {p["metadata"]["namespace"] for p in pods} == {"shop"}
    path, query = _Pages.asked[0]
    assert path == "/api/v1/namespaces/shop/pods"
    assert query["labelSelector"] == ["app=web"] and query["fieldSelector"] == ["spec.nodeName=node-1"]


def test_pages_arrive_as_they_are_read(cluster: KubeCluster) -> None:
    pages = cluster.iter_pods(None, "")
    first = next(pages)
    assert first["metadata"]["name"] == "p0000" and len(_Pages.asked) == 1  # one page asked for, not all

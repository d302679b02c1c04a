"""Pod manifests for the scenarios, built from a busybox-like image. Pure.

Only applets that both Debian's busybox-static and the upstream busybox image have are
used: `httpd -f -p [ADDR:]PORT` to serve (it binds 0.0.0.0, a pod IP or [::1]), `nc -w`
with a hand-written HTTP request to connect (Debian's static `wget` crashes, `nc -z` is
missing there), `grep` on /proc/net/tcp{,6} to see a listener (no netstat needed).
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]

WWW = "/tmp/www"


def _hexport(port: int) -> str:
    return f"{port:04X}"


def listening(port: int) -> list[str]:
    """A probe command: some socket of this netns listens on `port` (state 0A)."""
    pattern = f":{_hexport(port)} [0-9A-F]*:[0-9A-F]* 0A"
    return ["sh", "-c", f"grep -q '{pattern}' /proc/net/tcp /proc/net/tcp6"]


def http_get(host: str, port: int) -> str:
    """Shell: fetch / from host:port with nc; exit 0 only on an HTTP answer."""
    # busybox nc takes a bare IPv6 address (no brackets)
    return f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {host} {port} | grep -q '^HTTP/'"


def reaches(host: str, port: int) -> list[str]:
    return ["sh", "-c", http_get(host, port)]


def _probe(command: list[str]) -> Obj:
    return {"exec": {"command": command}, "periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 3}


def server(name: str, image: str, port: int, bind: str | None = None) -> Obj:
    """An HTTP server on `bind:port` (`bind` may name $(POD_IP), or `[::1]`); Ready once it listens."""
    address = f"{bind}:{port}" if bind else str(port)
    script = f"mkdir -p {WWW} && echo podnet-ok > {WWW}/index.html && exec httpd -f -p {address} -h {WWW}"
    container: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", script],
        "readinessProbe": _probe(listening(port)),
    }
    if bind and "POD_IP" in bind:
        container["env"] = [{"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}}]
    return container


_STALLED = """
import socket, sys, time
held = []
for port in map(int, sys.argv[1:]):
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("0.0.0.0", port))
    server.listen(0)  # one queued connection fills the accept queue, and it is never accepted
    held += [server, socket.create_connection(("127.0.0.1", port))]
open("/tmp/ready", "w").close()
time.sleep(1e9)
"""


def stalled_listeners(name: str, python_image: str, ports: list[int]) -> Obj:
    """Python listeners whose accept queues are full: a connect to them hangs until the
    client gives up (the kernel drops the SYN), so an agent run that probes them lasts its
    probe timeout per port and address. Ready once every queue is full."""
    return {
        "name": name,
        "image": python_image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python3", "-c", _STALLED, *map(str, ports)],
        "readinessProbe": _probe(["cat", "/tmp/ready"]),
    }


def idle(name: str, image: str, ready_when: list[str] | None = None) -> Obj:
    """A container that only sleeps; optionally Ready only while `ready_when` succeeds."""
    container: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["sleep", "3600"],
    }
    if ready_when:
        container["readinessProbe"] = _probe(ready_when)
    return container


def pod(
    name: str,
    containers: list[Obj],
    *,
    init_containers: list[Obj] | None = None,
    host_network: bool = False,
    node_selector: dict[str, str] | None = None,
    tolerate_all: bool = False,
    labels: dict[str, str] | None = None,
) -> Obj:
    spec: Obj = {
        "containers": containers,
        # busybox as PID 1 ignores SIGTERM: do not wait 30 s for it on cleanup
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
    }
    if init_containers:
        spec["initContainers"] = init_containers
    if host_network:
        spec["hostNetwork"] = True
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerate_all:  # e.g. onto a control-plane node
        spec["tolerations"] = [{"operator": "Exists"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "podnet-e2e", **(labels or {})}},
        "spec": spec,
    }


def native_sidecar(container: Obj) -> Obj:
    """An init container that keeps running beside the app (restartPolicy: Always, 1.29+)."""
    return {**container, "restartPolicy": "Always"}

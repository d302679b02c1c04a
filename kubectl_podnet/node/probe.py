"""Connect to a pod's listeners: over loopback from inside its netns, and at its IP from the node.

Both loopback families are tried for every listening port, because "reachable over
localhost" depends on which one a client picks: busybox and most scripts dial
127.0.0.1, glibc's `localhost` may give ::1 first. The caller runs this in a
thread that has entered the pod netns, so the sockets dial the pod's own `lo`.
"""

from __future__ import annotations

import errno
import socket
import time

from kubectl_podnet.checks.reach import serves
from kubectl_podnet.checks.verdict import canonical, family_of
from kubectl_podnet.model import Listener, Probe

LOOPBACKS = ("127.0.0.1", "::1")


def _dial(target: str, port: int, timeout: float) -> Probe:
    family = socket.AF_INET6 if ":" in target else socket.AF_INET
    started = time.perf_counter()
    error: str | None = None
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            code = sock.connect_ex((target, port))
            if code != 0:
                error = errno.errorcode.get(code, str(code))
    except TimeoutError:
        error = "ETIMEDOUT"
    except OSError as exc:
        error = errno.errorcode.get(exc.errno or 0, str(exc))
    return Probe(
        target=target, port=port, ok=error is None, error=error, millis=round((time.perf_counter() - started) * 1000, 2)
    )


def probe_loopback(ports: list[int], timeout: float) -> list[Probe]:
    """Dial 127.0.0.1:port and [::1]:port for each port from the calling thread's netns.

    Run it through `nsenter.run_in_netns` to dial the pod's own `lo`.
    """
    return [_dial(target, port, timeout) for port in ports for target in LOOPBACKS]


def probe_targets(targets: list[tuple[str, int]], timeout: float) -> list[Probe]:
    """Dial each (address, port) from the calling thread's netns: the node's, for `pod-ip`.

    The agent runs in the node netns (hostNetwork), where the kubelet's probes start too.
    """
    return [_dial(address, port, timeout) for address, port in targets]


def pod_ip_targets(listeners: list[Listener], pod_ips: list[str]) -> list[tuple[str, int]]:
    """The probe plan: (pod IP, port) for each TCP listener whose family has a pod IP."""
    targets: dict[tuple[str, int], None] = {}
    for listener in listeners:
        if listener.protocol != "tcp":
            continue
        for ip in pod_ips:
            if serves(listener, ip):
                targets[(canonical(ip), listener.port)] = None
    return sorted(targets, key=lambda t: (t[1], family_of(t[0]), t[0]))

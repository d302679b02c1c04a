"""The resident agent: one server per payload digest, reached over a unix socket.

Decision: starting Python in the agent pod and importing the agent and pyroute2 costs
~0.2-0.3 s, most of a warm inspect, so an exec does not pay it. The per-exec bootstrap
calls `run`: it asks the resident server of its own digest first, and only when that
cannot answer (no socket, refused, no acknowledgement within a bound taken from the
request's deadline, a reply cut short) runs the engine inline, then starts a server for
the next exec. The user sees the same envelope and exit code either way; a dead or hung
server costs one slower run.

- The socket, pidfile and lock live in the digest's own directory of the cache, and the
  server refuses a request naming another digest: code of another plugin version is
  never reached. The cache is the agent pod's emptyDir, so a replaced pod starts clean.
- The server imports the agent once and forks a child per request: a request's setns'd
  threads, its memory or a crash die with the child, and a child that outlives the
  request's deadline is killed (SIGALRM, default action, armed in the child).
- One server per digest: it holds an flock on `agent.lock` for its life. A starter that
  finds the lock held leaves, unless the server did not answer: then it kills the holder
  named in the pidfile (pid and start time, checked: the pod has hostPID, and a reused
  pid must never be killed), takes the lock and replaces the socket atomically (rename).
- It leaves on its own when its socket is no longer its own (a successor replaced it) or
  after IDLE_EXIT seconds without a request (servers of old plugin versions do not pile
  up in the agent container's 256Mi).

Stdlib only, and cheap at import: the bootstrap imports this module on every exec, so the
client side uses the C `_socket` (the `socket` and `signal` wrappers cost ~8 ms of enum
set-up); the server's modules are imported when a server starts.
"""

from __future__ import annotations

import _socket
import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs the bootstrap ~5 ms (re, ...)
if TYPE_CHECKING:
    import socket
    from typing import BinaryIO

SOCKET = "agent.sock"  # relative to the digest's directory (a unix socket path is <108 bytes)
PIDFILE = "agent.pid"
LOCK = "agent.lock"
LOG = "agent.log"
ACK = b"+"
ACK_BOUND = 2.0  # seconds a live server takes, at most, to acknowledge a request
IDLE_EXIT = 1800.0
CHILD_LIMIT = 3600.0  # backstop for a child whose own alarm did not end it
LOG_LIMIT = 64 * 1024
_TICK = 1.0


def ack_bound(deadline: float) -> float:
    """How long to wait for a server's acknowledgement: short, and a small part of the deadline."""
    return max(0.05, min(ACK_BOUND, deadline / 20))


def run(home: str, digest: str, request: str, deadline: float) -> int:
    """The bootstrap's whole warm path: ask the server, else run inline and start one."""
    os.chdir(home)
    code, hung = ask(digest, request, deadline, sys.stdout.buffer)
    if code is not None:
        return code
    from kubectl_podnet.node.engine import main

    code = main(["--request", request])
    sys.stdout.flush()
    spawn(digest, hung)
    return code


def ask(digest: str, request: str, deadline: float, out: BinaryIO) -> tuple[int | None, bool]:
    """The resident server's reply written to `out`, and its exit code (None if it cannot answer).

    The flag says the server is hung: it took the connection but did not acknowledge in
    time. No socket, a refusal, another digest's server or a cut reply are not that.
    """
    client = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    acknowledged = connected = False
    try:
        client.settimeout(ack_bound(deadline))
        client.connect(SOCKET)
        connected = True
        client.sendall(f"{digest} {deadline}\n".encode() + request.encode())
        client.shutdown(_socket.SHUT_WR)
        if client.recv(1) != ACK:
            return None, False
        acknowledged = True
        client.settimeout(deadline)  # the child's alarm ends it by then
        reply = _read_all(client)
    except TimeoutError:
        return None, connected and not acknowledged
    except OSError:  # no socket, refused, reset
        return None, False
    finally:
        client.close()
    head, _, body = reply.partition(b"\n")
    try:
        code, size = (int(field) for field in head.split())
    except ValueError:
        return None, False
    if len(body) != size:
        return None, False  # the child died mid-reply
    out.write(body)
    out.flush()
    return code, False


def _read_all(conn: _socket.socket | socket.socket) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].split()[19].decode()  # field 22, counted after "(comm)"


def recorded_server(home: str = ".") -> int | None:
    """The pid in `home`'s pidfile when that process is still the one that wrote it."""
    try:
        with open(os.path.join(home, PIDFILE)) as handle:
            pid_text, started = handle.read().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return None
    return pid if pid > 1 and _start_time(pid) == started else None


def spawn(digest: str, hung: bool) -> None:
    """Start a detached server (double fork, setsid); return at once in the caller."""
    child = os.fork()
    if child:
        os.waitpid(child, 0)
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        _detach_stdio()
        serve(digest, hung)
    except BaseException:  # noqa: BLE001 - a daemon reports to its log and leaves
        import traceback

        traceback.print_exc()
    finally:
        os._exit(0)


def _detach_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    try:
        if os.path.getsize(LOG) > LOG_LIMIT:
            os.truncate(LOG, 0)
    except OSError:
        pass
    log = os.open(LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - the daemon's stdio for its life
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    sys.stderr = os.fdopen(2, "w", buffering=1)


def _log(message: str) -> None:
    import time

    sys.stderr.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} pid {os.getpid()}: {message}\n")


def _take_lock(hung: bool) -> int | None:
    import fcntl
    import signal

    lock = os.open(LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return lock
    except BlockingIOError:
        pass
    holder = recorded_server()
    if not hung or holder is None:
        os.close(lock)  # a server runs (or is starting): it is the one
        return None
    _log(f"server {holder} did not answer: killing it")
    os.kill(holder, signal.SIGKILL)
    signal.alarm(5)  # a holder stuck in the kernel: give up, the next exec tries again
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
    finally:
        signal.alarm(0)
    return lock


def serve(digest: str, hung: bool = False) -> None:
    """Serve requests for `digest` from the current directory until idle or replaced."""
    import signal
    import socket
    import time

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    lock = _take_lock(hung)
    if lock is None:
        return
    # once, here: every child starts with the agent (and pyroute2) already imported
    import kubectl_podnet.node.engine
    import kubectl_podnet.node.gather
    import kubectl_podnet.checks.report  # noqa: F401

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    staging = f"{SOCKET}.{os.getpid()}"
    if os.path.exists(staging):
        os.unlink(staging)
    listener.bind(staging)
    listener.listen(64)
    os.rename(staging, SOCKET)  # atomic: a client sees the old socket or ours, never none
    mine = os.stat(SOCKET).st_ino
    with open(f"{PIDFILE}.{os.getpid()}", "w") as handle:
        handle.write(f"{os.getpid()} {_start_time(os.getpid())}\n")
    os.rename(f"{PIDFILE}.{os.getpid()}", PIDFILE)
    _log(f"serving {digest[:12]}")
    listener.settimeout(_TICK)
    children: dict[int, float] = {}
    last = time.monotonic()
    while True:
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            conn = None
        now = time.monotonic()
        if conn is not None:
            last = now
            children[_fork_child(conn, listener, lock, digest)] = now
            conn.close()
        _reap(children, now)
        try:
            replaced = os.stat(SOCKET).st_ino != mine
        except OSError:
            replaced = True
        if replaced or (now - last > IDLE_EXIT and not children):
            _log("replaced by another server" if replaced else "idle: leaving")
            return


def _reap(children: dict[int, float], now: float) -> None:
    import signal

    for pid, started in list(children.items()):
        if now - started > CHILD_LIMIT:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            del children[pid]


def _fork_child(conn: socket.socket, listener: socket.socket, lock: int, digest: str) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:
        listener.close()
        os.close(lock)  # the lock is the server's alone: a killed server must free it
        _answer(conn, digest)
    except BaseException:  # noqa: BLE001 - the client sees a cut reply and runs inline
        import traceback

        traceback.print_exc()
    finally:
        os._exit(0)


def _answer(conn: socket.socket, digest: str) -> None:
    import signal

    conn.settimeout(ACK_BOUND)
    data = _read_all(conn)
    header, _, request = data.partition(b"\n")
    fields = header.split()
    if len(fields) != 2 or fields[0].decode() != digest:
        return  # another plugin version's client: it runs its own code inline
    deadline = float(fields[1])
    signal.alarm(max(1, int(deadline) + 1))
    conn.sendall(ACK)
    from kubectl_podnet.node.engine import run as run_request

    code, result = run_request(request.decode())
    result["servedBy"] = {"resident": True, "pid": os.getppid()}
    body = _dumps(result)
    conn.settimeout(deadline)
    conn.sendall(f"{code} {len(body)}\n".encode() + body)


def _dumps(result: dict[str, object]) -> bytes:
    import json

    return (json.dumps(result, separators=(",", ":")) + "\n").encode()

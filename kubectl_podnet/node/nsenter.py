"""setns(2) for Python 3.11 (os.setns arrived in 3.12).

setns moves only the calling thread, which is exactly what we want: a worker thread
enters the pod netns, creates its sockets there, and dies; the agent's main thread
stays in the node's netns.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd: int, nstype: int = CLONE_NEWNET) -> None:
    native = getattr(os, "setns", None)
    if native is not None:
        native(fd, nstype)
        return
    if _libc.setns(fd, nstype) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def unshare(flags: int = CLONE_NEWNET) -> None:
    native = getattr(os, "unshare", None)
    if native is not None:
        native(flags)
        return
    if _libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def enter_netns(path: str) -> None:
    """Move the calling thread (or a child between fork and exec) into the netns at `path`."""
    fd = os.open(path, os.O_RDONLY)
    try:
        setns(fd)
    finally:
        os.close(fd)


def run_in_netns(netns_fd: int, work: Callable[[], T], name: str = "podnet-netns") -> T:
    """`work()` in a thread that entered the netns open at `netns_fd`; its result or its error.

    The thread dies with the netns it entered, so the caller's thread never leaves its own.
    Sockets it creates dial from that netns, and /proc/thread-self/net shows that netns.
    """
    results: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            setns(netns_fd)
            results.append(work())
        except BaseException as exc:  # surfaced in the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=run, name=name)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]
    return results[0]

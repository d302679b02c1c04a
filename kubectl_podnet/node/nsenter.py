"""setns(2) for Python 3.11 (os.setns arrived in 3.12).

setns moves only the calling thread, which is exactly what we want: a worker thread
enters the pod netns, creates its sockets there, and dies; the agent's main thread
stays in the node's netns.
"""

from __future__ import annotations

import ctypes
import os

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

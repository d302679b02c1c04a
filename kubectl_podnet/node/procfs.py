"""Readers of /proc: text and numbers in, nothing interpreted.

Processes come and go while we scan a node, so every reader returns None (or empty)
for a process that vanished or that we may not read, instead of raising.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

# Where runtimes and `ip netns add` pin network namespaces (/var/run/netns is a symlink to
# it); the agent pod mounts the node's copy at the same path.
NETNS_DIR = "/run/netns"

_GONE = (FileNotFoundError, ProcessLookupError, PermissionError, NotADirectoryError)


class ProcFS:
    def __init__(self, root: str = "/proc") -> None:
        self.root = root

    def pids(self) -> Iterator[int]:
        for entry in os.listdir(self.root):
            if entry.isdigit():
                yield int(entry)

    def read(self, pid: int | str, name: str) -> str | None:
        try:
            with open(f"{self.root}/{pid}/{name}", encoding="utf-8", errors="replace") as handle:
                return handle.read()
        except _GONE:
            return None
        except OSError:  # ESRCH mid-read and friends
            return None

    def read_bytes(self, pid: int | str, name: str) -> bytes | None:
        """Raw bytes, one read: the hot path of a /proc scan (no text decoding)."""
        try:
            fd = os.open(f"{self.root}/{pid}/{name}", os.O_RDONLY)
        except OSError:
            return None
        try:
            return os.read(fd, 65536)
        except OSError:
            return None
        finally:
            os.close(fd)

    def cmdline(self, pid: int) -> list[str]:
        text = self.read(pid, "cmdline")
        return [arg for arg in text.split("\0") if arg] if text else []

    def comm(self, pid: int) -> str | None:
        text = self.read(pid, "comm")
        return text.strip() if text else None

    def netns_path(self, pid: int | str) -> str:
        return f"{self.root}/{pid}/ns/net"

    def netns_inode(self, pid: int | str) -> int | None:
        try:
            return os.stat(self.netns_path(pid)).st_ino
        except _GONE:
            return None

    def socket_inodes(self, pid: int) -> set[int]:
        inodes: set[int] = set()
        fd_dir = f"{self.root}/{pid}/fd"
        try:
            entries = os.listdir(fd_dir)
        except _GONE:
            return inodes
        for entry in entries:
            try:
                target = os.readlink(f"{fd_dir}/{entry}")
            except _GONE:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
        return inodes


def pinned_netns(directory: str) -> dict[int, str]:
    """inode -> path of every netns bind-mounted under `directory` (e.g. /var/run/netns)."""
    pinned: dict[int, str] = {}
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return pinned
    for name in names:
        path = os.path.join(directory, name)
        try:
            pinned[os.stat(path).st_ino] = path
        except OSError:
            continue
    return pinned


class PinnedNetns:
    """The netns pinned under one directory, listed once for a batch of pods.

    Listing stats every pin (a node pins one netns per pod), so doing it per pod made a
    batch quadratic in its pods. An inode not seen lists the directory again: a pod
    started after the listing still finds its pin.
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self._pinned: dict[int, str] | None = None

    def path_of(self, inode: int) -> str | None:
        if self._pinned is None or inode not in self._pinned:
            self._pinned = pinned_netns(self.directory)
        return self._pinned.get(inode)

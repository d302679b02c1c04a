"""Removing a cgroup directory we made, with everything below it.

A cgroup directory goes with rmdir once its children and processes are gone, so the tree
is removed bottom-up; what would not go (a process still in it) is reported, not forced.
"""
from __future__ import annotations

import os


def remove_tree(root: str) -> list[str]:
    """rmdir `root` and every cgroup below it, deepest first; return the ones that stayed."""
    stuck = []
    for dirpath, _, _ in os.walk(root, topdown=False):
        try:
            os.rmdir(dirpath)
        except OSError as e:
            stuck.append(f"cgroup {dirpath}: {e.strerror}")
    return stuck

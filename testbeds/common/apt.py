"""The Debian packages a tool needs that are not installed yet, installed (apt-get, as root)."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable

from testbeds.common.failure import Failure


def missing(packages: Iterable[str]) -> list[str]:
    return [p for p in packages
            if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p], capture_output=True,
                              text=True).stdout.strip() != "install ok installed"]


def install(packages: Iterable[str], tell: Callable[[str], None]) -> None:
    wanted = missing(packages)
    if not wanted:
        return
    tell(f"installing apt packages: {' '.join(wanted)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for argv in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "--no-install-recommends", *wanted]):
        cp = subprocess.run(argv, env=env, capture_output=True, text=True)
        if cp.returncode != 0:
            raise Failure("apt", f"{' '.join(argv)} failed:\n" + "\n".join(cp.stderr.splitlines()[-15:]))

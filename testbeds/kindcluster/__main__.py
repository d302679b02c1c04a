#!/usr/bin/env python3
"""kubectl-podnet's three-node kind cluster for e2e, with no container registry.

    python3 -m testbeds.kindcluster up [--no-smoke]
    python3 -m testbeds.kindcluster build          # only build/cache what `up` needs (no daemons)
    python3 -m testbeds.kindcluster status
    python3 -m testbeds.kindcluster kubeconfig     # prints the kubeconfig path
    python3 -m testbeds.kindcluster run -- CMD...  # CMD in the cluster's netns, KUBECONFIG set
    python3 -m testbeds.kindcluster down

kind publishes the API server on 127.0.0.1 inside dockerd's own network namespace, so
clients (kubectl, the plugin, pytest) run through `run`, which enters that namespace
with the kubeconfig, our docker socket, and kind/docker/kubectl first on PATH.
Exit codes: 0 ok, 1 a step failed (named), 2 usage, 3 not running (status, kubeconfig).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Callable

from testbeds.common.cli import NOT_RUNNING, run_command, show_kubeconfig
from testbeds.kindcluster import daemons, lifecycle
from testbeds.kindcluster import kind_settings as K


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        rest = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        if not rest:
            print("usage: python3 -m testbeds.kindcluster run -- CMD [ARGS...]", file=sys.stderr)
            return 2
        if not daemons.netns_ready():
            print(f"kindcluster: not running (no netns at {K.NETNS}): run `up` first", file=sys.stderr)
            return NOT_RUNNING
        # the caller's netns, held open through the execs (nsenter and CMD keep this pid), so
        # CMD can step back out for what needs the machine's network (e2e: the dist build)
        outer = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        os.set_inheritable(outer, True)
        env = dict(lifecycle.env(), PODNET_OUTER_NETNS=f"/proc/{os.getpid()}/fd/{outer}")
        os.execvpe("nsenter", daemons.in_netns(rest), env)
    parser = argparse.ArgumentParser(prog="python3 -m testbeds.kindcluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="build what is missing, create the cluster, wait for Ready + exec")
    p_up.add_argument("--no-smoke", action="store_true", help="skip the smoke pod on a worker")
    sub.add_parser("build", help="build and cache what `up` needs, start nothing")
    sub.add_parser("down", help="delete the cluster, stop dockerd, remove its netns, mounts and state")
    sub.add_parser("status", help="what runs, with memory")
    sub.add_parser("kubeconfig", help="print the kubeconfig path")
    sub.add_parser("run", help="run a command in the cluster's netns: run -- CMD...")
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[], int | None]] = {
        "up": lambda: lifecycle.up(smoke=not args.no_smoke),
        "build": build,
        "down": lifecycle.down,
        "status": lifecycle.status,
        "kubeconfig": lambda: show_kubeconfig(K.kubeconfig_path()),
    }
    return run_command("kindcluster", daemons.tracked, commands[args.cmd])


def build() -> None:
    t0 = time.monotonic()
    lifecycle.build()
    lifecycle.say(f"everything `up` needs is built and cached ({time.monotonic() - t0:.0f}s)")


if __name__ == "__main__":
    sys.exit(main())

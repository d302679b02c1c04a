#!/usr/bin/env python3
"""kubectl-podnet's local one-node Kubernetes for e2e: up | down | status | kubeconfig.

    python3 -m testbeds.localcluster up [--network bridge|ptp] [--no-smoke]
    python3 -m testbeds.localcluster status
    python3 -m testbeds.localcluster kubeconfig      # prints the admin kubeconfig path
    python3 -m testbeds.localcluster kubectl ARGS... # the matching kubectl, admin kubeconfig
    python3 -m testbeds.localcluster down

Exit codes: 0 ok, 1 a component failed (named, with the end of its log), 2 usage, 3 not running.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable

from testbeds.common.cli import run_command, show_kubeconfig
from testbeds.localcluster import cluster, pki, procs


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `status | head` ends quietly
    parser = argparse.ArgumentParser(prog="python3 -m testbeds.localcluster", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="build what is missing, start the cluster, wait for Ready + exec")
    p_up.add_argument("--network", choices=("bridge", "ptp"), default="bridge",
                      help="bridge: cni0 + veth (default); ptp: routed veths like kind's kindnet")
    p_up.add_argument("--no-smoke", action="store_true", help="skip the two-container exec smoke pod")
    sub.add_parser("down", help="stop everything it started and remove what it created")
    sub.add_parser("status", help="what runs, with memory")
    sub.add_parser("kubeconfig", help="print the admin kubeconfig path")
    p_k = sub.add_parser("kubectl", help="run the matching kubectl with the admin kubeconfig")
    p_k.add_argument("args", nargs=argparse.REMAINDER)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["kubectl"]:  # pass everything after it through untouched (flags included)
        rest = argv[2:] if argv[1:2] == ["--"] else argv[1:]
        os.execv(cluster.binary("kubectl"),
                 ["kubectl", "--kubeconfig", str(pki.kubeconfig_path("admin")), *rest])
    args = parser.parse_args(argv)
    commands: dict[str, Callable[[], int | None]] = {
        "up": lambda: cluster.up(network=args.network, smoke=not args.no_smoke),
        "down": cluster.down,
        "status": cluster.status,
        "kubeconfig": lambda: show_kubeconfig(pki.kubeconfig_path("admin")),
    }
    return run_command("localcluster", procs.tracked, commands[args.cmd])


if __name__ == "__main__":
    sys.exit(main())

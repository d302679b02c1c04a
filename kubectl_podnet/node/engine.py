"""The node engine: one agent request in, one answer (`envelope.py`) out.

The same engine answers in every place the agent runs: once per exec
(`python -m kubectl_podnet.node --request JSON`), in the resident server's children
(resident.py), for `kubectl podnet node ...` as root on a node, and in the lab. A request
is one InspectRequest, a batch (a list: one exec for every pod on a node), a
NodeMapRequest (`pods`: the batch plus the node's own view) or one node's side of a
connect (`connect`). Stdlib only (the agent pod has python3 and nothing else).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from typing import TYPE_CHECKING

from kubectl_podnet.envelope import error_result, result, result_list
from kubectl_podnet.errors import ExitStatus, PodnetError, UsageError
from kubectl_podnet.model import InspectRequest
from kubectl_podnet.serde import from_json, to_json

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from kubectl_podnet.node.discover import CgroupGroup
    from kubectl_podnet.node.gather import NodeView
    from kubectl_podnet.node.netlink import HostNetns
    from kubectl_podnet.node.procfs import PinnedNetns


def run_one(
    data: object,
    node_view: NodeView | None = None,
    scanned: dict[str, dict[str, CgroupGroup]] | None = None,
    host: HostNetns | None = None,
    pinned: PinnedNetns | None = None,
) -> tuple[int, dict[str, object]]:
    from kubectl_podnet.checks.report import build_report
    from kubectl_podnet.node.gather import inspect_pod

    try:
        try:
            request = from_json(InspectRequest, data)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"bad agent request: {exc}") from exc
        groups = (scanned or {}).get(request.pod_uid)
        report = build_report(inspect_pod(request, node_view=node_view, groups=groups, host=host, pinned=pinned))
    except PodnetError as exc:
        return error_result(exc)
    code = int(ExitStatus.of_verdict(report.verdict))
    return code, result(code, to_json(report))


def run(request_text: str) -> tuple[int, dict[str, object]]:
    """One request (an object), a batch (a list: one exec for every pod on a node), a
    NodeMapRequest (an object with `pods`: the batch plus the node's own view, for the map),
    or one node's side of a connect (an object with `connect`)."""
    try:
        data = json.loads(request_text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than json can read
        return error_result(UsageError(f"bad agent request: {exc}"))
    if isinstance(data, dict) and "pods" in data:
        return run_map(data)
    if isinstance(data, dict) and "connect" in data:
        return run_connect_side(data["connect"])
    if not isinstance(data, list):
        return run_one(data)
    return run_batch(data)


def run_batch(
    data: list[object], host: HostNetns | None = None, workers: int | None = None
) -> tuple[int, dict[str, object]]:
    """Every request of `data`, in order; `host`: the node netns's socket and dumps, if the
    caller has them (the map), else opened here; `workers`: see `batch.map_in_order`."""
    from kubectl_podnet.node import netlink
    from kubectl_podnet.node.batch import map_in_order
    from kubectl_podnet.node.discover import scan_pods
    from kubectl_podnet.node.gather import read_node_view
    from kubectl_podnet.node.procfs import NETNS_DIR, PinnedNetns, ProcFS

    results: list[tuple[int, dict[str, object]]] = []
    if data:
        with contextlib.ExitStack() as stack:
            if host is None:
                host = stack.enter_context(netlink.host_netns())
            # once for the whole batch: the node's links, routes, uplink and overlays, one
            # netlink socket in the node's netns, one pass over /proc and one listing of
            # the pinned netns; each request is still validated on its own
            view = read_node_view(host)
            uids = {item["podUid"] for item in data if isinstance(item, dict) and isinstance(item.get("podUid"), str)}
            scanned = scan_pods(ProcFS(), uids) if len(uids) > 1 else None
            pinned = PinnedNetns(NETNS_DIR)
            shared = host

            @contextlib.contextmanager
            def worker() -> Iterator[Callable[[object], tuple[int, dict[str, object]]]]:
                with netlink.host_netns(shared) as own:
                    yield lambda item: run_one(item, view, scanned, own, pinned)

            results = map_in_order(data, worker, workers)  # pods in parallel when there are enough
    return result_list(results)


def run_map(data: dict[str, object]) -> tuple[int, dict[str, object]]:
    from kubectl_podnet.node import netlink
    from kubectl_podnet.node.hostview import read_host_view

    pods = data.get("pods")
    if not isinstance(pods, list):
        return error_result(UsageError("bad agent request: pods is not a list"))
    with netlink.host_netns() as host:  # one socket and one dump of the node's links and routes, for all
        try:
            view = read_host_view(host)
        except PodnetError as exc:
            return error_result(exc)
        code, answer = run_batch(pods, host)
    return code, {**answer, "hostView": to_json(view)}


def run_connect_side(data: object) -> tuple[int, dict[str, object]]:
    """One node's side of `connect A B` (node/connect_side.py): the facts, never a verdict (both sides make it)."""
    from kubectl_podnet.connect_model import ConnectRequest
    from kubectl_podnet.node.connect_side import run_connect

    try:
        try:
            request = from_json(ConnectRequest, data)
        except (ValueError, TypeError) as exc:
            raise UsageError(f"bad connect request: {exc}") from exc
        side = run_connect(request)
    except PodnetError as exc:
        return error_result(exc)
    return 0, {**result(0), "side": to_json(side)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kubectl_podnet.node", description="podnet node agent")
    parser.add_argument("--request", required=True, help="an InspectRequest as JSON, or a list of them")
    args = parser.parse_args(argv)
    code, answer = run(args.request)
    json.dump(answer, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    return code

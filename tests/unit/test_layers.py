"""The architecture as a test: each outside library enters through one module, the rooms of
the package import only downwards, no module imports itself round a circle, and every file
shipped to the agent imports only shipped files.

(kopf's import-linter contracts, in our own test: the imports are read with ast, every
one of them, at module level or inside a function, so a lazy import cannot hide a layer
break.) The layers, top to bottom; a room may import its own modules and any lower layer's:

    cli (and __main__.py)    the command line
    cluster, lab, render     the client's rooms: never each other
    node                     the agent engine and its readers
    checks                   the judgement, pure
    the top-level modules    the shared vocabulary: model, errors, serde, envelope, cni, ...
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubectl_podnet.cluster.agent_zip import shipped

PACKAGE = Path(__file__).parent.parent.parent / "kubectl_podnet"
LAYERS: tuple[tuple[str, ...], ...] = (("cli",), ("cluster", "lab", "render"), ("node",), ("checks",), ("vocabulary",))
RANK = {room: rank for rank, rooms in enumerate(LAYERS) for room in rooms}


def _sources() -> dict[str, str]:
    return {path.relative_to(PACKAGE).as_posix(): path.read_text() for path in sorted(PACKAGE.rglob("*.py"))}


def _module_file(dotted: str, files: set[str]) -> str | None:
    """The file of `kubectl_podnet.x.y`: x/y.py, or x/y/__init__.py for a package."""
    parts = dotted.split(".")[1:]
    for candidate in ("/".join(parts) + ".py", "/".join(parts + ["__init__.py"])):
        if candidate in files:
            return candidate
    return None


def _imported(relative: str, source: str, files: set[str]) -> Iterator[tuple[int, str]]:
    """(line, file of ours) for each import of ours in a module; `from pkg import mod` names mod."""
    package = relative.split("/")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                up = package[: len(package) - node.level + 1]
                base = ".".join(["kubectl_podnet", *up, *([base] if base else [])])
            submodules = [f"{base}.{alias.name}" for alias in node.names
                          if _module_file(f"{base}.{alias.name}", files) is not None]
            names = submodules or [base]
        else:
            continue
        for dotted in names:
            found = _module_file(dotted, files) if dotted.split(".")[0] == "kubectl_podnet" else None
            if found is not None and found != relative:
                yield node.lineno, found


def _graph(sources: dict[str, str]) -> dict[str, dict[str, int]]:
    files = set(sources)
    graph: dict[str, dict[str, int]] = {}
    for relative, source in sources.items():
        edges = graph.setdefault(relative, {})
        for line, target in _imported(relative, source, files):
            edges.setdefault(target, line)
    return graph


def room_of(relative: str) -> str:
    head = relative.split("/", 1)[0]
    if "/" in relative:
        return head
    return "cli" if head == "__main__.py" else "vocabulary"  # `python -m kubectl_podnet` is the CLI


def layer_breaks(sources: dict[str, str]) -> list[str]:
    """Every import that goes up a layer or sideways into a sibling room."""
    broken = []
    for relative, edges in sorted(_graph(sources).items()):
        room = room_of(relative)
        for target, line in sorted(edges.items()):
            other = room_of(target)
            if other != room and RANK[other] <= RANK[room]:
                broken.append(f"{relative}:{line} ({room}) imports {target} ({other})")
    return broken


def circles(sources: dict[str, str]) -> list[list[str]]:
    """The import cycles among our modules (each once, from its smallest member)."""
    graph = _graph(sources)
    found: set[tuple[str, ...]] = set()

    def walk(start: str, here: str, path: list[str]) -> None:
        for target in graph.get(here, {}):
            if target == start:
                found.add(tuple(path))
            elif target > start and target not in path:
                walk(start, target, path + [target])

    for start in sorted(graph):
        walk(start, start, [start])
    return [list(cycle) for cycle in sorted(found)]


def unshipped_imports(sources: dict[str, str]) -> list[str]:
    return [f"{relative}:{line} imports {target}, which stays home"
            for relative, edges in sorted(_graph(sources).items()) if shipped(relative)
            for target, line in sorted(edges.items()) if not shipped(target)]


def test_every_room_imports_only_its_own_and_lower_layers() -> None:
    assert layer_breaks(_sources()) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert circles(_sources()) == []


def test_every_file_shipped_to_the_agent_imports_only_shipped_files() -> None:
    sources = _sources()
    assert any(shipped(name) for name in sources) and unshipped_imports(sources) == []


@pytest.mark.parametrize(("planted", "source"), [
    ("checks/planted.py", "from kubectl_podnet.cli.app import main\n"),
    ("node/planted.py", "def later() -> None:\n    from kubectl_podnet.cluster import kube\n"),
    ("model_planted.py", "from kubectl_podnet.checks.verdict import Verdict\n"),
    ("render/planted.py", "import kubectl_podnet.lab.world\n"),
])
def test_a_planted_upward_or_sideways_import_is_caught(planted: str, source: str) -> None:
    assert [line for line in layer_breaks({**_sources(), planted: source}) if line.startswith(planted)]


def test_a_planted_circle_and_a_planted_unshipped_import_are_caught() -> None:
    sources = {**_sources(), "checks/one.py": "from kubectl_podnet.checks import two\n",
               "checks/two.py": "from kubectl_podnet.checks.one import x\n",
               "node/planted.py": "from kubectl_podnet.render.text import render_table\n"}
    assert ["checks/one.py", "checks/two.py"] in circles(sources)
    assert [line for line in unshipped_imports(sources) if line.startswith("node/planted.py")]


def test_no_two_modules_share_a_name_in_different_rooms() -> None:
    seen: dict[str, list[str]] = {}
    for relative in _sources():
        name = relative.rsplit("/", 1)[-1]
        if name not in ("__init__.py", "__main__.py"):
            seen.setdefault(name, []).append(relative)
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


# --- each outside library through its one adapter

def _outside(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif (  # importlib.import_module("pkg.mod") is an import too
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value).split(".")[0])
    return found


def _libraries() -> dict[str, set[str]]:
    return {name: _outside(source) for name, source in _sources().items()}


@pytest.mark.parametrize(
    ("library", "allowed"),
    [
        ("kubernetes", {"cluster/kube.py"}),
        ("pyroute2", {"node/netlink.py"}),
        ("typer", {p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "cli").glob("*.py")}),
    ],
)
def test_a_library_is_imported_by_its_adapter_only(library: str, allowed: set[str]) -> None:
    importers = {name for name, imports in _libraries().items() if library in imports}
    assert importers and importers <= allowed, importers - allowed


def test_the_checks_the_vocabulary_and_rendering_import_no_outside_library() -> None:
    allowed = {"__future__", "kubectl_podnet", "dataclasses", "typing", "json", "textwrap", "ipaddress",
               "collections", "types", "yaml", "re", "xml", "io", "threading", "enum"}
    for name, imports in _libraries().items():
        if room_of(name) in ("checks", "render") or name in ("model.py", "serde.py", "envelope.py",
                                                             "connect_model.py", "cni.py", "outcome.py"):
            assert imports <= allowed, (name, imports - allowed)


def test_the_netlink_parsers_do_no_io_and_import_no_pyroute2() -> None:
    libraries = _libraries()
    # read, then parse: node/netlink.py asks the kernel, node/rtnl.py only looks at messages
    assert libraries["node/rtnl.py"] <= {"__future__", "kubectl_podnet", "socket", "collections", "typing"}
    # ipaddress: longest-prefix match of a failed lookup, arithmetic only
    assert libraries["node/rtnl_path.py"] <= {"__future__", "kubectl_podnet", "socket", "collections", "typing",
                                               "ipaddress"}


def test_the_checks_import_nothing_from_outside() -> None:
    for name, imports in _libraries().items():
        if room_of(name) == "checks":
            assert imports <= {"__future__", "kubectl_podnet", "ipaddress", "collections", "dataclasses",
                               "typing"}, name

"""Each outside library enters through one module; the agent payload needs none of ours.

(The import-linter contract of kopf, as a test: it reads the imports with ast.)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kubectl_podnet.cluster.payload import AGENT_PARTS

PACKAGE = Path(__file__).parent.parent.parent / "kubectl_podnet"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
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


def _modules() -> dict[str, set[str]]:
    return {path.relative_to(PACKAGE).as_posix(): _imports(path) for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize(
    ("library", "allowed"),
    [
        ("kubernetes", {"cluster/kube.py"}),
        ("pyroute2", {"node/netlink.py"}),
        ("typer", {p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "cli").glob("*.py")}),
    ],
)
def test_a_library_is_imported_by_its_adapter_only(library: str, allowed: set[str]) -> None:
    importers = {name for name, imports in _modules().items() if library in imports}
    assert importers and importers <= allowed, importers - allowed


def test_checks_model_and_rendering_import_no_outside_library() -> None:
    pure = [name for name in _modules() if name in ("checks.py", "report.py", "model.py", "serde.py", "envelope.py")
            or name.startswith("render/")]
    for name in pure:
        outside = _modules()[name] - {"__future__", "kubectl_podnet", "dataclasses", "typing", "json", "textwrap",
                                       "ipaddress", "collections", "types", "yaml", "re", "xml", "io", "threading"}
        assert not outside, (name, outside)


def test_the_agent_side_never_imports_the_cluster_cli_or_render_side() -> None:
    shipped = tuple(part for part in AGENT_PARTS if part.endswith(".py"))
    folders = tuple(part + "/" for part in AGENT_PARTS if not part.endswith(".py"))
    for name, _ in _modules().items():
        if not name.startswith(folders) and name not in shipped:
            continue
        tree = ast.parse((PACKAGE / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(
                    ("kubectl_podnet.cluster", "kubectl_podnet.cli", "kubectl_podnet.render", "kubectl_podnet.lab")
                ), (name, node.module)


def test_the_netlink_parsers_do_no_io_and_import_no_pyroute2() -> None:
    # read, then parse: node/netlink.py asks the kernel, node/rtnl.py only looks at messages
    assert _modules()["node/rtnl.py"] <= {"__future__", "kubectl_podnet", "socket", "collections", "typing"}
    # ipaddress: longest-prefix match of a failed lookup, arithmetic only
    assert _modules()["node/rtnl_path.py"] <= {"__future__", "kubectl_podnet", "socket", "collections", "typing",
                                                "ipaddress"}


def test_the_checks_import_nothing_from_outside() -> None:
    for name in ("checks.py", "checks_reach.py", "checks_path.py", "verdict.py"):
        assert _modules()[name] <= {"__future__", "kubectl_podnet", "ipaddress", "collections", "dataclasses",
                                    "typing"}, name

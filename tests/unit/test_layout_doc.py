"""The README's layout section is the tree's: every room and module, every directory, described."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).parent.parent.parent


def _layout() -> ModuleType:
    spec = importlib.util.spec_from_file_location("podnet_layout", ROOT / "scripts" / "layout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_layout_is_what_the_tree_gives() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "layout.py"), "--check"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_layout_names_every_module_of_the_package_and_every_directory() -> None:
    layout = _layout()
    text = layout.layout()
    words = set(text.split())
    package = ROOT / "kubectl_podnet"
    for path in package.rglob("*.py"):
        if path.name != "__init__.py" and "__pycache__" not in path.parts:
            assert path.name in words, path
    for room in (p for p in package.iterdir() if (p / "__init__.py").is_file()):
        assert f"{room.name}/" in words and room.name in layout.ROOMS, room
    assert layout.undescribed() == []
    assert all(f"{name}/" in words for name in layout.tracked_directories())

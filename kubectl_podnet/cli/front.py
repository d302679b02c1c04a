"""The console script's front door: answer what needs no parsing before typer is loaded.

Measured: `version` and `inspect -h` through typer cost ~0.2 s, nearly all of it
importing typer, its click and pydantic, and every verb's module; the target is 0.08 s.
So `version` is answered here, and help is typer's own rendering replayed from a
cache: the first `CMD -h` renders it through typer (as always) and keeps the bytes,
keyed by the CLI's sources (paths, sizes, mtimes of the whole package), typer's version,
the terminal width and whether stdout is a terminal. Any change to the CLI makes a new
key, so the cached text is always what typer would print now. Everything else, and any
`-h` that is not exactly `[COMMAND...] -h`, goes to cli.app.main unchanged.

Imports only the standard library (and the import-free package root).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

import kubectl_podnet

HELP_FLAGS = ("-h", "--help")
_RENDERINGS_KEPT = 64


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["version"]:
        sys.stdout.write(f"kubectl-podnet {kubectl_podnet.__version__}\n")
        return 0
    words = help_request(args)
    if words is not None:
        return _help(args, words)
    from kubectl_podnet.cli.app import main as full

    return full(args)


def run() -> None:
    """The `kubectl-podnet` console script: exit with main()'s status."""
    sys.exit(main())


def complete_main() -> None:
    """The `kubectl_complete-podnet` console script: kubectl runs it for `kubectl podnet <TAB>`."""
    from kubectl_podnet.cli.app import app
    from kubectl_podnet.cli.completion_cmd import complete_for_kubectl

    sys.exit(complete_for_kubectl(app, sys.argv[1:]))


def help_request(args: list[str]) -> list[str] | None:
    """The command path of a plain `[COMMAND...] -h` request, else None."""
    if not args or args[-1] not in HELP_FLAGS:
        return None
    words = args[:-1]
    if not all(word.replace("-", "").isalnum() and not word.startswith("-") for word in words):
        return None
    return words


def _help(args: list[str], words: list[str]) -> int:
    path = _cache_dir() / f"help-{_key(words)}.txt"
    try:
        sys.stdout.write(path.read_text())
        return 0
    except (OSError, UnicodeDecodeError):
        pass
    from kubectl_podnet.cli.app import is_command_path, main as full
    from io import StringIO

    real, captured = sys.stdout, StringIO()
    sys.stdout = captured
    try:
        code = full(args)
    finally:
        sys.stdout = real
    text = captured.getvalue()
    sys.stdout.write(text)
    if code == 0 and text and is_command_path(words):  # never keep an error, or a pod name
        _store(path, text)
    return code


def _key(words: list[str]) -> str:
    package = Path(kubectl_podnet.__file__).parent
    digest = hashlib.sha256()
    for name in (" ".join(words), kubectl_podnet.__version__, _typer_version(), str(_columns()),
                 str(sys.stdout.isatty()), os.environ.get("TERM", ""), os.environ.get("NO_COLOR", "")):
        digest.update(name.encode() + b"\0")
    # a single-file build (zipapp) has no package directory: the archive stands for it
    sources = sorted(package.rglob("*.py")) if package.is_dir() else [p for p in package.parents if p.is_file()][:1]
    for source in sources:
        stat = source.stat()
        digest.update(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def _typer_version() -> str:
    """Where typer lives and when it was installed: an upgrade changes its rendering."""
    for entry in sys.path:
        candidate = Path(entry or ".") / "typer" / "__init__.py"
        try:
            stat = candidate.stat()
        except OSError:
            continue
        return f"{candidate}:{stat.st_size}:{stat.st_mtime_ns}"
    return "no-typer"


def _columns() -> int:
    import shutil

    return shutil.get_terminal_size().columns


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kubectl-podnet"


def _store(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        kept = sorted(path.parent.glob("help-*.txt"), key=lambda p: p.stat().st_mtime)
        for old in kept[: max(0, len(kept) - _RENDERINGS_KEPT + 1)]:
            old.unlink(missing_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as handle:
            handle.write(text)
        os.replace(handle.name, path)  # atomic: a concurrent run reads all or nothing
    except OSError:
        pass  # a read-only home: render every time, still correct

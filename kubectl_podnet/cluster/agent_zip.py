"""Build the agent payload: this package but its client side, plus pyroute2, as one zip.

Deterministic (sorted names, fixed timestamps), so its sha256 names the code exactly:
same plugin version and same pyroute2, same hash, no re-send. Zipping takes ~100 ms, so
the zip and its hash are cached on disk, keyed by the sources' paths, sizes and mtimes:
a warm `inspect` only stats the files (~3 ms) to learn the hash it asks the agent for.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import kubectl_podnet
from kubectl_podnet.errors import AgentError

# What stays home: the client's rooms and its entry point. Everything else ships (the node
# engine, the checks and the shared vocabulary at the top), so a new module of theirs is
# never missed; the layers test holds every shipped file to importing only shipped files.
CLIENT_SIDE = ("cli", "cluster", "lab", "render", "__main__.py")
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Payload:
    digest: str
    source: Path | bytes  # the cached zip on disk, or the zip itself

    @property
    def data(self) -> bytes:
        return self.source if isinstance(self.source, bytes) else self.source.read_bytes()


def shipped(relative: str) -> bool:
    """Whether a file of this package (its path inside it, posix) goes to the agent."""
    return relative.split("/", 1)[0] not in CLIENT_SIDE


def _files(root: Path, arcbase: str, keep: Callable[[str], bool]) -> list[tuple[str, Path]]:
    """The .py files under `root` that `keep` ships; a room that stays home is not walked
    (a warm inspect lists these on every run to learn the payload's hash)."""
    found = []
    for top in root.iterdir():
        if top.name == "__pycache__" or not keep(top.name):
            continue
        for path in [top] if top.is_file() else top.rglob("*.py"):
            relative = path.relative_to(root)
            if path.suffix == ".py" and "__pycache__" not in relative.parts and "tests" not in relative.parts:
                found.append((f"{arcbase}/{relative.as_posix()}", path))
    return sorted(found)


def _sources() -> list[tuple[str, Path]]:
    spec = importlib.util.find_spec("pyroute2")  # locate, do not import (0.2 s)
    if spec is None or spec.origin is None:
        raise AgentError("pyroute2 is not installed here, so the agent payload cannot be built")
    ours = Path(kubectl_podnet.__file__).parent
    theirs = Path(os.path.dirname(spec.origin))
    return _files(ours, "kubectl_podnet", shipped) + _files(theirs, "pyroute2", lambda _: True)


def zip_sources(entries: list[tuple[str, Path]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kubectl-podnet"


def _fingerprint(entries: list[tuple[str, Path]]) -> str:
    digest = hashlib.sha256(kubectl_podnet.__version__.encode())
    for name, path in entries:
        stat = path.stat()
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


@lru_cache(maxsize=1)
def build_payload() -> Payload:
    entries = _sources()
    cached = _cache_dir() / f"agent-{_fingerprint(entries)}.zip"
    hash_file = cached.with_suffix(".sha256")
    try:
        digest = hash_file.read_text().strip()
        if len(digest) == 64 and cached.is_file():
            return Payload(digest=digest, source=cached)
    except OSError:
        pass
    data = zip_sources(entries)
    digest = hashlib.sha256(data).hexdigest()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        for target, content in ((cached, data), (hash_file, digest.encode())):
            with tempfile.NamedTemporaryFile(dir=cached.parent, delete=False) as handle:
                handle.write(content)
            os.replace(handle.name, target)  # atomic: a concurrent run sees all or nothing
    except OSError:
        pass  # a read-only home: build every time, still correct
    return Payload(digest=digest, source=data)

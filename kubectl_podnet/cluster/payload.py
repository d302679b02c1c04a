"""Build the agent payload: the node side of this package plus pyroute2, as one zip.

Deterministic (sorted names, fixed timestamps), so its sha256 names the code exactly:
same plugin version and same pyroute2, same hash, no re-send.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import kubectl_podnet

# The agent needs these; the CLI, cluster client, renderers and lab stay home.
_AGENT_PARTS = ("__init__.py", "errors.py", "model.py", "serde.py", "checks.py", "node")
_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Payload:
    data: bytes
    digest: str


def _files(root: Path, parts: tuple[str, ...] | None, arcbase: str) -> list[tuple[str, Path]]:
    found = []
    for part in parts or ("",):
        base = root / part
        paths = [base] if base.is_file() else sorted(base.rglob("*.py"))
        for path in paths:
            if "__pycache__" in path.parts or "tests" in path.relative_to(root).parts:
                continue
            found.append((f"{arcbase}/{path.relative_to(root).as_posix()}", path))
    return found


@lru_cache(maxsize=1)
def build_payload() -> Payload:
    import pyroute2

    ours = Path(kubectl_podnet.__file__).parent
    theirs = Path(os.path.dirname(pyroute2.__file__))
    entries = _files(ours, _AGENT_PARTS, "kubectl_podnet") + _files(theirs, None, "pyroute2")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())
    data = buffer.getvalue()
    return Payload(data=data, digest=hashlib.sha256(data).hexdigest())

"""`__main__.py` of the single-file kubectl-podnet: unpack once into a cache, then run from there.

Why not import straight from the zip: compiled modules (pydantic-core, which the kubernetes
client imports) cannot load from a zip; the agent payload and the lab read our sources as
files and start `python -m kubectl_podnet.node` in child processes; and a zip cannot keep the
.pyc files that make the next start fast. So the first run extracts the pure-Python part
plus the compiled part built for this Python (cp311, cp312, ...) into
$PODNET_CACHE_DIR, else $XDG_CACHE_HOME/kubectl-podnet, else ~/.cache/kubectl-podnet, under
the build's content hash; later runs find it complete and only stat one file. Extraction
goes to a temporary directory renamed into place, so concurrent first runs never see half a
tree. Standard library only: this runs before anything else is importable.
"""

import json
import os
import shutil
import sys
import tempfile
import zipfile
from typing import NoReturn

MINIMUM = (3, 11)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"kubectl-podnet: error: {message}\n")
    sys.exit(2)


def _cache_root() -> str:
    explicit = os.environ.get("PODNET_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kubectl-podnet")


def _extract(archive: "zipfile.ZipFile", prefixes: "tuple[str, ...]", target: str) -> None:
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".unpack-", dir=parent)
    try:
        for info in archive.infolist():
            prefix = next((p for p in prefixes if info.filename.startswith(p)), None)
            if prefix is None or info.is_dir():
                continue
            relative = info.filename[len(prefix):]
            destination = os.path.join(staging, *relative.split("/"))
            os.makedirs(os.path.dirname(destination), exist_ok=True)
            with archive.open(info) as source, open(destination, "wb") as sink:
                shutil.copyfileobj(source, sink)
            os.chmod(destination, (info.external_attr >> 16) & 0o777 or 0o644)
        open(os.path.join(staging, ".complete"), "w").close()
        try:
            os.rename(staging, target)
        except OSError:  # another first run won the race: use its tree
            if not os.path.isfile(os.path.join(target, ".complete")):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def site_dir(archive_path: str) -> str:
    """The unpacked tree for this archive and this Python, extracting it on first use."""
    if sys.version_info < MINIMUM:
        _fail(f"python {sys.version_info.major}.{sys.version_info.minor} is too old: python3 >= 3.11 is required")
    with zipfile.ZipFile(archive_path) as archive:
        build = json.loads(archive.read("podnet-build.json"))
        abi = f"cp{sys.version_info.major}{sys.version_info.minor}"
        if abi not in build["abis"]:
            _fail(f"this kubectl-podnet {build['version']} ({build['platform']}) carries compiled modules for "
                  f"{', '.join(build['abis'])}, not for python {sys.version_info.major}.{sys.version_info.minor}; "
                  f"run it with one of those, or `pip install kubectl-podnet`")
        target = os.path.join(_cache_root(), "bundle", f"{build['id'][:16]}-{abi}")
        if not os.path.isfile(os.path.join(target, ".complete")):
            try:
                _extract(archive, ("site/", f"native/{abi}/"), target)
            except OSError as exc:
                _fail(f"cannot unpack into {target}: {exc.strerror or exc} (set PODNET_CACHE_DIR to a writable directory)")
    return target


def main() -> None:
    archive_path = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, site_dir(archive_path))
    if sys.path[1:2] == [archive_path]:
        del sys.path[1]  # the zip itself stays off the path: everything runs from the cache
    if os.path.basename(sys.argv[0]).startswith("kubectl_complete-"):
        # a symlink named kubectl_complete-podnet: kubectl's plugin completion
        from kubectl_podnet.cli.front import complete_main

        complete_main()
    from kubectl_podnet.cli.front import main as podnet_main  # version and help before typer loads

    sys.exit(podnet_main())


main()

"""Build the single-file kubectl-podnet per platform, its krew archives and the krew manifest.

    python3 scripts/dist_build.py            # from scripts/dist.lock (reproducible)
    python3 scripts/dist_build.py --relock   # resolve the dependencies anew, rewrite the lock

Each platform gets `kubectl-podnet` (a zipapp: shebang + zip, see dist_bootstrap.py) holding
  site/               our package and every pure-Python dependency (py3-none-any wheels)
  native/cp3XY/       the dependencies that exist only as compiled wheels (pydantic-core,
                      which kubernetes.client.api_client imports via pydantic), one tree per
                      CPython minor, since those wheels are not abi3 (PyYAML's binding is
                      optional: its Python files go to site/, see _OPTIONAL_BINARY)
  podnet-build.json   version, platform, the ABIs carried, the content hash
What is bundled is the dependency closure of this package minus _UNUSED (the kubernetes
client's asyncio half, which we never import): the lock names each distribution and version.
Wheels come through `pip download` (the machine's pip configuration applies). Archives are
written with sorted entries, fixed timestamps and modes, so the same lock and sources give the
same sha256.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "scripts" / "dist.lock"
PLUGIN = "podnet"
# krew os/arch -> pip --platform tags (pip also accepts the older tags these imply)
PLATFORMS = {
    ("linux", "amd64"): ["manylinux_2_17_x86_64", "manylinux2014_x86_64"],
    ("linux", "arm64"): ["manylinux_2_17_aarch64", "manylinux2014_aarch64"],
    ("darwin", "amd64"): ["macosx_11_0_x86_64"],
    ("darwin", "arm64"): ["macosx_11_0_arm64"],
}
ABIS = ["cp311", "cp312", "cp313", "cp314"]
# compiled parts the package can do without: PyYAML falls back to pure Python when its libyaml
# binding is missing (yaml.__with_libyaml__ False), and we only parse small kubeconfigs with it,
# so one copy of its Python files serves every platform and Python instead of 16 builds
_OPTIONAL_BINARY = {"pyyaml"}
# kubernetes requires aiohttp for kubernetes.aio only; we use the synchronous client
_UNUSED = {"aiohttp", "aiohttp-retry"}
_EPOCH_ZIP = (1980, 1, 1, 0, 0, 0)
_EPOCH_TAR = 315532800  # 1980-01-01, as the zip entries


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip(*args: str, quiet: bool = False) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True,
                   stderr=subprocess.DEVNULL if quiet else None)


# ---- the lock --------------------------------------------------------------------------------


def relock(work: Path) -> None:
    """Resolve this package's dependencies for this Python and keep the ones we import."""
    report = work / "resolve.json"
    _pip("install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report), str(ROOT))
    items = json.loads(report.read_text())["install"]
    meta = {_normal(i["metadata"]["name"]): i["metadata"] for i in items}
    needed: set[str] = set()
    todo = ["kubectl-podnet"]
    while todo:
        name = todo.pop()
        for requirement in meta[name].get("requires_dist") or []:
            target = _normal(re.split(r"[\s;<>=!~\[(]", requirement, maxsplit=1)[0])
            if "extra ==" in requirement or target not in meta or target in _UNUSED or target in needed:
                continue
            needed.add(target)
            todo.append(target)
    lines = [f"{meta[n]['name']}=={meta[n]['version']}" for n in sorted(needed)]
    LOCK.write_text("# the single-file build's dependencies (scripts/dist_build.py --relock)\n" + "\n".join(lines) + "\n")
    print(f"dist: locked {len(lines)} distributions in {LOCK.relative_to(ROOT)}")


def locked() -> list[str]:
    return [line.strip() for line in LOCK.read_text().splitlines() if line.strip() and not line.startswith("#")]


# ---- wheels ------------------------------------------------------------------------------------


def _download(pin: str, into: Path, platforms: list[str], abi: str | None) -> Path | None:
    name, version = pin.split("==")
    into.mkdir(parents=True, exist_ok=True)
    stem = _normal(name).replace("-", "_")

    def found() -> Path | None:
        for wheel in sorted(into.glob("*.whl")):
            if _normal(wheel.name.split("-")[0]).replace("-", "_") == stem and wheel.name.split("-")[1] == version:
                return wheel
        return None

    if found() is None:
        args = ["download", "--quiet", "--no-deps", "--only-binary=:all:", "--dest", str(into), pin]
        for platform in platforms:
            args += ["--platform", platform]
        if abi is None:
            args += ["--python-version", "3.11", "--implementation", "py"]
        else:
            args += ["--python-version", abi[2:], "--implementation", "cp", "--abi", abi]
        try:
            _pip(*args, quiet=abi is None)  # no pure wheel is an answer, not an error
        except subprocess.CalledProcessError:
            return None
    return found()


def _wheel_files(wheel: Path) -> list[tuple[str, bytes, int]]:
    out = []
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            if info.is_dir() or top.endswith(".data") or info.filename.endswith(".dist-info/RECORD"):
                continue
            mode = (info.external_attr >> 16) & 0o777
            out.append((info.filename, archive.read(info), 0o755 if mode & 0o111 else 0o644))
    return out


def _own_files() -> list[tuple[str, bytes, int]]:
    package = ROOT / "kubectl_podnet"
    return [
        (path.relative_to(ROOT).as_posix(), path.read_bytes(), 0o644)
        for path in sorted(package.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".typed"}
    ]


# ---- archives ------------------------------------------------------------------------------------


def _zipapp(entries: dict[str, tuple[bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"#!/usr/bin/env python3\n")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name in sorted(entries):
            data, mode = entries[name]
            info = zipfile.ZipInfo(name, _EPOCH_ZIP)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def _tar_gz(members: list[tuple[str, bytes, int]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, data, mode in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, _EPOCH_TAR
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def _manifest(version: str, archives: dict[tuple[str, str], tuple[str, str]], base_url: str) -> str:
    platforms = []
    for (os_name, arch), (filename, digest) in sorted(archives.items()):
        platforms.append(
            f"""  - selector:
      matchLabels:
        os: {os_name}
        arch: {arch}
    uri: {base_url}/{filename}
    sha256: {digest}
    files:
      - from: kubectl-podnet
        to: .
      - from: LICENSE
        to: .
    bin: kubectl-podnet
"""
        )
    return f"""apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: {PLUGIN}
spec:
  version: v{version}
  shortDescription: Prove the pod-network model from inside the node
  description: |
    Inspects a pod from inside its node through a privileged agent DaemonSet and proves the
    Kubernetes pod-network model: the pause container, one shared network namespace, the pod
    IP on eth0, one veth pair, and every listener reachable over localhost.
  caveats: |
    This plugin is a Python program: it needs python3 >= 3.11 (3.11 to 3.14) on your PATH,
    and nothing else. The first run unpacks it into ~/.cache/kubectl-podnet.
    `kubectl podnet <TAB>` completion (kubectl >= 1.26): see the README.
  platforms:
{"".join(platforms)}"""


def build(out: Path, wheels: Path, base_url: str, only: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from kubectl_podnet import __version__ as version

    pins = locked()
    pure: list[tuple[str, bytes, int]] = []
    native: list[str] = []
    for pin in pins:
        wheel = _download(pin, wheels / "any", ["any"], None)
        if wheel is None and _normal(pin.split("==")[0]) in _OPTIONAL_BINARY:
            wheel = _download(pin, wheels / "linux-amd64-cp311", PLATFORMS[("linux", "amd64")], "cp311")
            if wheel is None:
                raise SystemExit(f"dist: no wheel for {pin}")
            pure += [entry for entry in _wheel_files(wheel) if not entry[0].endswith((".so", ".pyd"))]
        elif wheel is None:
            native.append(pin)
        else:
            pure += _wheel_files(wheel)
    site = {f"site/{name}": (data, mode) for name, data, mode in pure + _own_files()}
    license_text = (ROOT / "LICENSE").read_bytes()
    out.mkdir(parents=True, exist_ok=True)
    archives: dict[tuple[str, str], tuple[str, str]] = {}
    for (os_name, arch), tags in PLATFORMS.items():
        if only and f"{os_name}-{arch}" not in only:
            continue
        entries = dict(site)
        for abi in ABIS:
            for pin in native:
                wheel = _download(pin, wheels / f"{os_name}-{arch}-{abi}", tags, abi)
                if wheel is None:
                    raise SystemExit(f"dist: no {os_name}/{arch} {abi} wheel for {pin}")
                entries.update({f"native/{abi}/{n}": (d, m) for n, d, m in _wheel_files(wheel)})
        content = hashlib.sha256()
        for name in sorted(entries):
            content.update(name.encode() + b"\0" + hashlib.sha256(entries[name][0]).digest())
        build_info = {"version": version, "platform": f"{os_name}-{arch}", "abis": ABIS,
                      "id": content.hexdigest(), "bundled": pins}
        entries["podnet-build.json"] = (json.dumps(build_info, indent=1, sort_keys=True).encode(), 0o644)
        entries["__main__.py"] = ((ROOT / "scripts" / "dist_bootstrap.py").read_bytes(), 0o644)
        single = _zipapp(entries)
        single_path = out / f"kubectl-podnet-{os_name}-{arch}"
        single_path.write_bytes(single)
        single_path.chmod(0o755)
        filename = f"kubectl-podnet_v{version}_{os_name}_{arch}.tar.gz"
        packed = _tar_gz([("LICENSE", license_text, 0o644), ("kubectl-podnet", single, 0o755)])
        (out / filename).write_bytes(packed)
        archives[(os_name, arch)] = (filename, hashlib.sha256(packed).hexdigest())
        print(f"dist: {filename} {len(packed) / 1e6:.1f} MB (single file {len(single) / 1e6:.1f} MB)")
    (out / f"{PLUGIN}.yaml").write_text(_manifest(version, archives, base_url))
    sums = [f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in sorted(out.iterdir())
            if p.is_file() and p.name != "SHA256SUMS"]
    (out / "SHA256SUMS").write_text("".join(sums))
    print(f"dist: {out / (PLUGIN + '.yaml')}; native: {', '.join(native) or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relock", action="store_true", help="resolve the dependencies and rewrite the lock")
    parser.add_argument("--out", default=str(ROOT / "dist"))
    parser.add_argument("--platform", action="append", default=[], choices=[f"{o}-{a}" for o, a in PLATFORMS],
                        help="build only this one (repeat); default: all")
    args = parser.parse_args()
    cache = Path(os.environ.get("PODNET_DIST_CACHE") or ROOT / "build" / "dist-cache")
    if args.relock:
        with tempfile.TemporaryDirectory() as work:
            relock(Path(work))
    # where the archives will be downloaded from: the GitHub release of this version's tag
    from_actions = os.environ.get("GITHUB_REPOSITORY") and os.environ.get("GITHUB_REF_NAME")
    base_url = os.environ.get("PODNET_RELEASE_URL") or (
        f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{os.environ['GITHUB_REPOSITORY']}"
        f"/releases/download/{os.environ['GITHUB_REF_NAME']}" if from_actions else Path(args.out).resolve().as_uri()
    )
    build(Path(args.out), cache / "wheels", base_url, args.platform)


if __name__ == "__main__":
    main()

"""The node's CNI configuration: the file the runtime will call, read from the node's root.

Read, then parse: `read_cni_config` finds the file, `parse_cni_config` reads its JSON. The
runtime (containerd, CRI-O, through libcni) takes the first file of the directory in name
order whose name ends in .conf, .conflist or .json; so do we. The agent is hostPID, so the
node's root is /proc/1/root (a kind node's is its container's); `PODNET_CNI_CONF_DIR` names
another directory (the lab keeps one per lab node). A directory we may not read, or no file
that parses, is no config: the devices still say which CNI wired the node.
"""

from __future__ import annotations

import json
import os

from kubectl_podnet.model import CniConfig

CNI_CONF_DIR_ENV = "PODNET_CNI_CONF_DIR"
NODE_CNI_CONF_DIR = "/proc/1/root/etc/cni/net.d"
_EXTENSIONS = (".conf", ".conflist", ".json")
_MAX_BYTES = 1 << 20


def parse_cni_config(file: str, text: str) -> CniConfig | None:
    """A .conflist's name and its plugins' types in chain order (a .conf: its one type); None if it is not one."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    chain = data.get("plugins")
    plugins: list[object] = chain if isinstance(chain, list) else [data]
    types = [str(p["type"]) for p in plugins if isinstance(p, dict) and isinstance(p.get("type"), str)]
    if not types:
        return None
    name = data.get("name")
    return CniConfig(file=file, name=name if isinstance(name, str) else None, plugins=types)


def read_cni_config(directory: str | None = None) -> CniConfig | None:
    directory = directory or os.environ.get(CNI_CONF_DIR_ENV) or NODE_CNI_CONF_DIR
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(_EXTENSIONS))
    except OSError:
        return None
    for name in names:
        try:
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
                text = handle.read(_MAX_BYTES)
        except OSError:
            continue
        config = parse_cni_config(name, text)
        if config is not None:
            return config
    return None

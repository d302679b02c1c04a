"""Make a map from a real lab deterministic, for golden files.

What the kernel or a random source assigns (pids, netns inodes, the uuid-derived veth
names, pod uids, container ids, MACs, the test's random prefix) is replaced by a
placeholder, the same value always by the same placeholder, in order of first
appearance. So the golden still shows every equality that matters (a hostNetwork pod's
netns IS the node's; a stray container's netns is NOT the pod's), and it pins everything
the lab decides: names, addresses, grouping, routes, verdicts. ifindexes are kept: in a
freshly made netns the kernel numbers links in creation order, which the lab fixes.
"""

from __future__ import annotations

import re
from typing import Any

from kubectl_podnet.model import PodNetNodeMap
from kubectl_podnet.serde import from_json, to_json

_PIDS = {"pid", "pids"}
_INODES = {"netnsInode", "nodeNetnsInode"}
_PATTERNS = [
    (re.compile(r"\bveth[0-9a-f]{8}\b"), "veth"),
    (re.compile(r"\bm[0-9a-f]{8}\b"), "mvln"),
    # the host veths of the CNI shapes: Calico's cali, Cilium's lxc, AWS's eni, Azure's azv
    (re.compile(r"\bcali[0-9a-f]{11}\b"), "cali"),
    (re.compile(r"\blxc[0-9a-f]{12}\b"), "lxc"),
    (re.compile(r"\beni[0-9a-f]{11}\b"), "eni"),
    (re.compile(r"\bazv[0-9a-f]{11}\b"), "azv"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "uid"),
    (re.compile(r"\b[0-9a-f]{64}\b"), "id"),
    (re.compile(r"\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b"), "mac"),
]


class Normaliser:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen: dict[tuple[str, object], str | int] = {}

    def _number(self, kind: str, value: int, base: int) -> int:
        key = (kind, value)
        if key not in self.seen:
            self.seen[key] = base + sum(1 for k in self.seen if k[0] == kind)
        return int(self.seen[key])

    def _text(self, text: str) -> str:
        text = text.replace(self.prefix, "lab")
        for pattern, kind in _PATTERNS:
            text = pattern.sub(lambda m, kind=kind: self._token(kind, m.group(0)), text)  # type: ignore[misc]
        text = re.sub(r"net:\[(\d+)\]", lambda m: f"net:[{self._number('inode', int(m.group(1)), 4026530000)}]", text)
        text = re.sub(r"\bpid (\d+)", lambda m: f"pid {self._number('pid', int(m.group(1)), 1000)}", text)
        return re.sub(r"/proc/(\d+)/", lambda m: f"/proc/{self._number('pid', int(m.group(1)), 1000)}/", text)

    def _token(self, kind: str, value: str) -> str:
        key = (kind, value)
        if key not in self.seen:
            number = sum(1 for k in self.seen if k[0] == kind) + 1
            self.seen[key] = {"veth": f"veth{number:08d}", "mvln": f"m{number:08d}", "cali": f"cali{number:011d}",
                              "lxc": f"lxc{number:012d}", "eni": f"eni{number:011d}", "azv": f"azv{number:011d}",
                              "uid": f"00000000-0000-4000-8000-{number:012d}", "id": f"{number:064d}",
                              "mac": f"02:00:00:00:00:{number:02x}"}[kind]
        return str(self.seen[key])

    def walk(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.walk(item, key) for item in value]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int) and key in _PIDS:
            return self._number("pid", value, 1000)
        if isinstance(value, int) and key in _INODES:
            return self._number("inode", value, 4026530000)
        if isinstance(value, int) and key == "inode":  # a listener's socket
            return self._number("socket", value, 50000)
        if isinstance(value, float):
            return 0.0  # probe times
        if isinstance(value, str):
            return self._text(value)
        return value


def normalised(node_map: PodNetNodeMap, prefix: str) -> PodNetNodeMap:
    return from_json(PodNetNodeMap, Normaliser(prefix).walk(to_json(node_map)))

"""sock_diag's TCP LISTEN answer gives the listeners /proc/net/tcp{,6} gives, on dumps recorded
together from one real netns (tests/samples/sock_diag/record.py)."""

from __future__ import annotations

import errno
import struct
from pathlib import Path

import pytest

from kubectl_podnet.node.tcp import NLMSG_ERROR, Socket, parse_inet_diag, parse_listeners

SAMPLES = Path(__file__).parent.parent / "samples" / "sock_diag"


def recorded(family: int) -> bytes:
    text = (SAMPLES / f"inet{family}.dump").read_text()
    return bytes.fromhex("".join(line for line in text.splitlines() if not line.startswith("#")))


@pytest.mark.parametrize(("family", "table"), [(4, "tcp"), (6, "tcp6")])
def test_sock_diag_and_proc_net_tcp_name_the_same_listeners(family: int, table: str) -> None:
    from_diag = parse_inet_diag(recorded(family), family)
    from_proc = parse_listeners((SAMPLES / table).read_text(), family)
    assert from_diag and sorted(from_diag, key=str) == sorted(from_proc, key=str)


def test_the_recorded_pod_listeners_decode_to_address_and_port() -> None:
    assert {(s.address, s.port) for s in parse_inet_diag(recorded(4), 4)} == {("0.0.0.0", 8080), ("127.0.0.1", 7070)}
    assert {(s.address, s.port) for s in parse_inet_diag(recorded(6), 6)} == {("::", 8081), ("::1", 9090)}
    assert all(isinstance(s, Socket) and s.inode > 0 for s in parse_inet_diag(recorded(6), 6))


def test_an_error_answer_raises_so_the_caller_reads_proc_instead() -> None:
    error = struct.pack("=IHHII", 36, NLMSG_ERROR, 0, 1, 0) + struct.pack("=i", -errno.ENOENT) + bytes(16)
    with pytest.raises(OSError) as raised:
        parse_inet_diag(error, 4)
    assert raised.value.errno == errno.ENOENT


def test_a_cut_answer_gives_what_it_holds_and_never_raises() -> None:
    data = recorded(4)
    whole = parse_inet_diag(data, 4)
    for cut in range(len(data)):
        part = parse_inet_diag(data[:cut], 4)
        assert part == whole[: len(part)]

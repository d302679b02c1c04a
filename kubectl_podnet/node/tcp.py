"""Parse `/proc/<pid>/net/{tcp,tcp6,udp,udp6}` into the sockets that wait for clients.

Addresses are the kernel's hex dump of the in-kernel bytes: IPv4 is one 32-bit word and
IPv6 four 32-bit words, each printed in host byte order. TCP: rows in LISTEN. UDP has no
listen state: a socket bound to a port and not connected (state 07, remote 0:0) is what
waits for datagrams. Pure; tested on saved dumps.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass

TCP_LISTEN = "0A"
UDP_UNCONNECTED = "07"  # TCP_CLOSE, as the UDP table prints an unconnected socket


@dataclass(frozen=True)
class Socket:
    family: int  # 4 or 6
    address: str
    port: int
    inode: int


def _decode_address(hex_address: str) -> str:
    # each 32-bit word was printed with %08X from host memory: read it back in host order
    raw = b"".join(
        int(hex_address[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(hex_address), 8)
    )
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw)


def parse_listeners(text: str, family: int) -> list[Socket]:
    """LISTEN rows of one /proc/net/tcp{,6} dump."""
    return _parse(text, family, udp=False)


def parse_udp_bound(text: str, family: int) -> list[Socket]:
    """Bound, unconnected rows of one /proc/net/udp{,6} dump: UDP's listeners."""
    return _parse(text, family, udp=True)


def _parse(text: str, family: int, udp: bool) -> list[Socket]:
    listeners: list[Socket] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != (UDP_UNCONNECTED if udp else TCP_LISTEN):
            continue
        if udp and not fields[2].endswith(":0000"):
            continue  # connected to a peer: a client, not a listener
        address, _, port = fields[1].partition(":")
        try:
            decoded = Socket(family=family, address=_decode_address(address), port=int(port, 16), inode=int(fields[9]))
        except ValueError:
            continue  # a row we cannot read is not a listener we can probe
        listeners.append(decoded)
    return listeners

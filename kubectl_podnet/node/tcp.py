"""Parse `/proc/<pid>/net/{tcp,tcp6,udp,udp6}` (or sock_diag's answer for TCP) into the
sockets that wait for clients.

Addresses are the kernel's hex dump of the in-kernel bytes: IPv4 is one 32-bit word and
IPv6 four 32-bit words, each printed in host byte order. TCP: rows in LISTEN. UDP has no
listen state: a socket bound to a port and not connected (state 07, remote 0:0) is what
waits for datagrams. Pure; tested on saved dumps.

sock_diag (`parse_inet_diag`): the kernel's binary answer to "the TCP sockets in LISTEN",
the same sockets /proc/net/tcp prints in state 0A, without walking the established hash
(which reading /proc/net/tcp does, whatever the netns: ~2 ms a file on a big host).
"""

from __future__ import annotations

import errno
import socket
import struct
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


NLMSG_ERROR, NLMSG_DONE = 2, 3
SOCK_DIAG_BY_FAMILY = 20
TCP_LISTEN_STATE = 10
_NLMSG = struct.Struct("=IHHII")  # length, type, flags, seq, pid
# inet_diag_msg: family, state, timer, retrans; sport, dport (big endian), src, dst, if,
# cookie; expires, rqueue, wqueue, uid, inode
_INET_DIAG_MSG = struct.Struct("=BBBB2s2s16s16sI8sIIIII")


def parse_inet_diag(data: bytes, family: int) -> list[Socket]:
    """The LISTEN sockets of one sock_diag dump of `family` (4 or 6), as `parse_listeners` gives them.

    An NLMSG_ERROR in the answer raises OSError (the caller reads /proc/net/tcp instead).
    """
    listeners: list[Socket] = []
    offset = 0
    while offset + _NLMSG.size <= len(data):
        length, kind = _NLMSG.unpack_from(data, offset)[:2]
        if length < _NLMSG.size or offset + length > len(data):
            break  # cut short: what came before is all there is
        body = offset + _NLMSG.size
        if kind == NLMSG_ERROR:
            (code,) = struct.unpack_from("=i", data, body)
            if code:
                raise OSError(-code, f"sock_diag: {errno.errorcode.get(-code, -code)}")
        elif kind == SOCK_DIAG_BY_FAMILY and length - _NLMSG.size >= _INET_DIAG_MSG.size:
            fields = _INET_DIAG_MSG.unpack_from(data, body)
            if fields[1] == TCP_LISTEN_STATE:
                raw = fields[6][:4] if family == 4 else fields[6]
                address = socket.inet_ntop(socket.AF_INET if family == 4 else socket.AF_INET6, raw)
                port = int.from_bytes(fields[4], "big")
                listeners.append(Socket(family=family, address=address, port=port, inode=fields[14]))
        elif kind == NLMSG_DONE:
            break
        offset += (length + 3) & ~3
    return listeners

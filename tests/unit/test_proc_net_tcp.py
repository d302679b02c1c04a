"""/proc/net/tcp{,6} parsing on saved real dumps (provenance: tests/samples/proc_net/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubectl_podnet.node.tcp import parse_listeners, parse_udp_bound

SAMPLES = Path(__file__).parent.parent / "samples" / "proc_net"

CASES = {
    "tcp_jc_fixture": (4, [("127.0.0.53", 53, 34000), ("127.0.0.1", 35303, 140054), ("127.0.0.1", 631, 34523)]),
    "tcp6_jc_fixture": (6, [("::", 22, 23556)]),
    "tcp_goss_issue804_partial": (
        4,
        [
            ("0.0.0.0", 10051, 26222), ("0.0.0.0", 22, 26636), ("0.0.0.0", 80, 19250), ("0.0.0.0", 443, 19251),
            ("127.0.0.1", 5432, 24477), ("127.0.0.1", 8080, 19252), ("127.0.0.53", 53, 20112),
        ],
    ),
    "tcp6_cordial_issue65_mon8_partial": (
        6,
        [("::", 22, 20824), ("::1", 5432, 22873), ("::1", 25, 23991), ("::", 443, 23588), ("::", 514, 21331),
         ("::", 5666, 22124)],
    ),
    "tcp_treadmill_sanitized": (4, [("0.0.0.0", 3, 15565), ("127.0.0.1", 4, 11020561)]),
    "tcp6_treadmill_sanitized": (6, [("::", 1, 18682), ("::1", 2, 18683), ("::", 4660, 18684)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_listen_rows_decode_to_address_port_and_inode(name: str) -> None:
    family, expected = CASES[name]
    found = parse_listeners((SAMPLES / name).read_text(), family)
    assert [(s.address, s.port, s.inode) for s in found] == expected
    assert {s.family for s in found} <= {family}


def test_only_listen_state_rows_count() -> None:
    text = (SAMPLES / "tcp6_jc_fixture").read_text()
    assert len(text.splitlines()) > 2  # the fixture has TIME_WAIT rows too
    assert len(parse_listeners(text, 6)) == 1


def test_ipv4_mapped_ipv6_listener_keeps_its_v6_form() -> None:
    row = ("   0: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A "
           "00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0")
    header = "  sl  local_address remote_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode"
    (sock,) = parse_listeners(header + "\n" + row + "\n", 6)
    assert (sock.address, sock.port, sock.inode) == ("::ffff:127.0.0.1", 8080, 4242)


def test_garbage_rows_are_skipped_not_raised() -> None:
    text = "header\n   0: ZZZZ:XX 0000:0000 0A 0:0 0:0 0 0 0 1 1\n   1: short\n"
    assert parse_listeners(text, 4) == []


UDP_CASES = {
    "udp_packagecloud_blog_partial": (
        4, [("0.0.0.0", 45894, 7518), ("0.0.0.0", 881, 7408), ("127.0.0.1", 911, 7511), ("0.0.0.0", 68, 7673),
            ("0.0.0.0", 111, 7407)],
    ),
    "udp_netns_debian12_recorded": (4, [("0.0.0.0", 5353, 102092), ("127.0.0.1", 53, 102093)]),
    "udp6_netns_debian12_recorded": (6, [("::1", 5300, 102096), ("::", 8125, 102095)]),
}


@pytest.mark.parametrize("name", sorted(UDP_CASES))
def test_bound_unconnected_udp_rows_are_the_udp_listeners(name: str) -> None:
    family, expected = UDP_CASES[name]
    found = parse_udp_bound((SAMPLES / name).read_text(), family)
    assert [(s.address, s.port, s.inode) for s in found] == expected


def test_a_connected_udp_client_is_not_a_listener_and_tcp_rows_are_not_udp_ones() -> None:
    text = (SAMPLES / "udp_netns_debian12_recorded").read_text()
    assert "0100007F:0035 01" in text  # the connected client is in the dump
    assert 102094 not in {s.inode for s in parse_udp_bound(text, 4)}
    assert parse_listeners(text, 4) == []  # no row of a UDP table is in LISTEN
    assert parse_udp_bound((SAMPLES / "tcp_jc_fixture").read_text(), 4) == []

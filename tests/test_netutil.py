"""Free ports for test servers: outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import socket

from contract.netutil import ephemeral_ports, free_port


def test_a_free_port_is_below_the_ephemeral_range_and_can_be_bound() -> None:
    low, high = ephemeral_ports()
    assert 1024 < low <= high
    for _ in range(50):
        port = free_port()
        assert port < low
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_not_handed_out() -> None:
    low, _ = ephemeral_ports()
    taken = []
    try:
        for _ in range(200):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", free_port()))
            sock.listen()
            taken.append(sock)
        ports = {sock.getsockname()[1] for sock in taken}
        assert len(ports) == len(taken)  # none handed out twice while held
        assert max(ports) < low
    finally:
        for sock in taken:
            sock.close()

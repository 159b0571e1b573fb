"""Free ports for test servers: outside the range the kernel gives outgoing connections."""

from __future__ import annotations

import socket

import pytest

from contract.netutil import ephemeral_ports, free_port, port_slice


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


def test_a_port_is_handed_out_once_even_after_it_is_free_again() -> None:
    # A stopped server's port stays its own: a PLC comes back on it after an outage.
    ports = [free_port() for _ in range(100)]
    assert len(set(ports)) == len(ports)


def test_each_test_worker_draws_from_a_slice_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
    slices = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        slices.append(port_slice(10000, 32768))
    assert slices == [(10000, 17589), (17589, 25178), (25178, 32767)]
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    low, high = port_slice(10000, ephemeral_ports()[0])
    assert all(low <= free_port() < high for _ in range(20))
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    assert port_slice(10000, 32768) == (10000, 32768)  # not a test worker: all of it

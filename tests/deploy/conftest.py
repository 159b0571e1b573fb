"""A Mosquitto started from what ``andon deploy mosquitto`` wrote, shared by a module's
tests (tests/helpers/deploy.py)."""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Iterator

import pytest

from contract.netutil import free_port, wait_for_port
from testbed.broker import find_mosquitto
from tests.helpers.deploy import (
    LINES,
    SecuredBroker,
    edge_file,
    hub_file,
    make_certificates,
    run_deploy,
)


@pytest.fixture(scope="module")
def secured_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredBroker]:
    """One broker for a module's tests: they use clients of their own and leave no state
    behind but retained-free messages, and key generation takes seconds."""
    tmp_path = tmp_path_factory.mktemp("secured")
    ca, cert, key = make_certificates(tmp_path / "certs")
    hub = hub_file(tmp_path / "hub.yaml")
    edges = [edge_file(tmp_path / f"edge-{line}.yaml", line) for line in LINES]
    out = tmp_path / "mosquitto"
    tls_port, local_port = free_port(), free_port()
    done = run_deploy(
        hub, edges, out,
        "--tls-port", str(tls_port), "--local-port", str(local_port), "--cafile", str(ca),
        "--certfile", str(cert), "--keyfile", str(key), "--data-dir", str(tmp_path / "data"),
        "--run-as", getpass.getuser(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (tmp_path / "data").mkdir()
    log = (tmp_path / "mosquitto.log").open("wb")
    process = subprocess.Popen(
        [find_mosquitto(), "-c", str(out / "mosquitto.conf")], stdout=log, stderr=log
    )
    try:
        ready = wait_for_port("127.0.0.1", tls_port, timeout=10) and wait_for_port(
            "127.0.0.1", local_port, timeout=10
        )
        assert ready, (tmp_path / "mosquitto.log").read_text()
        yield SecuredBroker(out, tls_port, local_port, ca, done.stdout, tmp_path)
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()

"""A plant's site files, a test certificate authority, and a Mosquitto started from what
``andon deploy mosquitto`` wrote."""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contract.netutil import free_port, wait_for_port
from testbed.broker import find_mosquitto
from tests.plant import ANDON, write_yaml

SITE = "plant1"
LINES = {"line1": ["st10", "st20"], "line2": ["st30"]}


def hub_file(path: Path, *, edges: bool = True) -> Path:
    """The site's hub file; each line lists its edge (``edge-<line>``) unless not ``edges``."""
    return write_yaml(
        path,
        {
            "site": SITE,
            "broker": {"username": "hub"},
            "call_types": ["maintenance"],
            "reason_codes": ["adjusted"],
            "areas": [
                {
                    "id": "assembly",
                    "lines": [
                        {
                            "id": line,
                            "stations": [{"id": s} for s in stations],
                            "edges": [f"edge-{line}"] if edges else [],
                        }
                        for line, stations in LINES.items()
                    ],
                }
            ],
        },
    )


def edge_file(path: Path, line: str, *, site: str = SITE, **broker: Any) -> Path:
    return write_yaml(
        path,
        {
            "edge_id": f"edge-{line}",
            "site": site,
            "area": "assembly",
            "line": line,
            "broker": broker,
            "devices": [{"kind": "modbus_tcp", "id": "plc", "host": "127.0.0.1", "port": 502}],
        },
    )


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, cert = (
        directory / name for name in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt")
    )
    openssl = ["openssl"]
    subprocess.run(
        [*openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=andon test CA", "-keyout", ca_key, "-out", ca],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [*openssl, "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", key, "-out", csr],
        check=True, capture_output=True,
    )  # fmt: skip
    extensions = directory / "san.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(
        [*openssl, "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-days", "2", "-extfile", extensions, "-out", cert],
        check=True, capture_output=True,
    )  # fmt: skip
    return ca, cert, key


@dataclass
class SecuredBroker:
    out: Path
    tls_port: int
    local_port: int
    ca: Path
    printed: str
    site_dir: Path

    def password(self, user: str) -> str:
        return (self.out / "secrets" / f"{user}.password").read_text().strip()


def run_deploy(
    hub: Path, edges: list[Path], out: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ANDON, "deploy", "mosquitto", "--config", str(hub), "--edges", *map(str, edges),
         "--out", str(out), *extra],
        capture_output=True, text=True, check=False,
    )  # fmt: skip


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

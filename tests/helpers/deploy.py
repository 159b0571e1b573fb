"""A plant's site files, a test certificate authority, and a Mosquitto started from what
``andon deploy mosquitto`` wrote."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from testbed.victoria_metrics import VictoriaMetrics
from tests.helpers.plant import ANDON, AndonProcess, write_yaml

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


def two_hub_files(tmp_path: Path, broker: MosquittoBroker, url: str, prefix: str) -> list[Path]:
    return [
        write_yaml(
            tmp_path / f"{name}.yaml",
            {
                "site": SITE,
                "client_id": name,
                "shared_group": "hubs",
                "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
                "storage": {"url": url},
                "api": {"port": free_port()},
                "call_types": ["maintenance", "quality"],
                "reason_codes": ["adjusted"],
                "areas": [
                    {
                        "id": "assembly",
                        "lines": [
                            {"id": line, "stations": [{"id": s} for s in stations]}
                            for line, stations in LINES.items()
                        ],
                    }
                ],
            },
        )
        for name in ("hub-a", "hub-b")
    ]


def publish(broker: MosquittoBroker, messages: list[tuple[str, str]]) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="edge-sim")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for topic, payload in messages:
            client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)
    finally:
        client.loop_stop()
        client.disconnect()


def subscribed(hub: AndonProcess) -> bool:
    return "subscribed at broker" in hub.log()


def query(url: str, sql: str) -> list[Any]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(sa.text(sql)))
    except sa.exc.ProgrammingError:  # the hubs have not made the tables yet
        return []
    finally:
        engine.dispose()


def exported(vm: VictoriaMetrics, match: str) -> list[dict[str, Any]]:
    """Every series matching ``match``, as VictoriaMetrics' export API gives them."""
    answer = httpx.get(f"{vm.url}/api/v1/export", params={"match[]": match}, timeout=10)
    answer.raise_for_status()
    return [json.loads(line) for line in answer.text.splitlines() if line.strip()]

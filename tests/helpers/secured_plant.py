"""A plant on the broker ``andon deploy mosquitto`` configures: the site's files written
once and used both to generate the broker's files and to run ``andon hub`` and
``andon edge`` over its TLS listener with the generated passwords, a pymodbus PLC, and a
raw MQTT 5 client that logs in as any account to try what the ACL should refuse.

Line 1 (edge-line1): call buttons on coils 0 and 1 (st0, st1), st0's tower light on
coils 100.. Line 2 (edge-line2): call buttons on coils 30 to 32 (st30 to st32).
"""

from __future__ import annotations

import getpass
import shutil
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from contract.netutil import free_port, wait_for_port
from contract.processes import stop_process
from testbed.broker import find_mosquitto
from testbed.plc_sim import SimulatedPlc
from tests.helpers.deploy import make_certificates, run_deploy
from tests.helpers.plant import AndonProcess, write_yaml

SITE, AREA = "plant1", "assembly"
STATIONS = {"line1": {"st0": 0, "st1": 1}, "line2": {"st30": 30, "st31": 31, "st32": 32}}
OUTPUTS = ["red", "amber", "blue", "green", "flashing", "buzzer", "line_stop"]
LIGHT_BASE = 100  # st0's light


@dataclass
class SecuredBroker:
    """Mosquitto run from the generated ``mosquitto.conf``; stopped and started again by
    the tests, its persistence folder removable in between."""

    out: Path
    data_dir: Path
    log_path: Path
    tls_port: int
    local_port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [find_mosquitto(), "-c", str(self.out / "mosquitto.conf")], stdout=log, stderr=log
            )
        up = wait_for_port("127.0.0.1", self.tls_port, timeout=10)
        assert up, self.log_path.read_text()

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, timeout_s=10)

    def forget(self) -> None:
        """Stopped: remove what it kept (the hub's queued session among it)."""
        assert self.process is None
        shutil.rmtree(self.data_dir)

    def password(self, user: str) -> str:
        return (self.out / "secrets" / f"{user}.password").read_text().strip()


def broker_settings(broker: SecuredBroker, user: str, ca: Path) -> dict[str, Any]:
    secret = broker.out / "secrets" / f"{user}.password"
    return {
        "host": "127.0.0.1", "port": broker.tls_port, "username": user,
        "password": f"{{file:{secret}}}", "ca_file": str(ca), "keepalive_s": 2,
    }  # fmt: skip


def hub_settings(broker: dict[str, Any], storage: Path, api_port: int) -> dict[str, Any]:
    lines = [
        {"id": line, "edges": [f"edge-{line}"], "stations": [{"id": s} for s in stations]}
        for line, stations in STATIONS.items()
    ]
    # Through $share/ subscriptions, as hubs of a shared group read: the ACL must serve
    # those too.
    return {
        "site": SITE, "client_id": "hub-a", "shared_group": "hubs",
        "broker": broker, "storage": {"path": str(storage)},
        "api": {"host": "127.0.0.1", "port": api_port},
        "call_types": ["maintenance"], "reason_codes": ["adjusted"],
        "areas": [{"id": AREA, "lines": lines}],
    }  # fmt: skip


def edge_settings(line: str, broker: dict[str, Any], plc: SimulatedPlc, work: Path) -> Any:
    buttons = [
        {"device": "plc1", "address": coil, "station": station, "call_type": "maintenance"}
        for station, coil in STATIONS[line].items()
    ]
    lights = [
        {"station": "st0", "device": "plc1", "table": "coil",
         "outputs": {name: LIGHT_BASE + i for i, name in enumerate(OUTPUTS)}}
    ]  # fmt: skip
    return {
        "edge_id": f"edge-{line}", "site": SITE, "area": AREA, "line": line,
        "broker": broker, "outbox": {"path": str(work / f"outbox-{line}.sqlite3")},
        "poll_interval_s": 0.05, "debounce_s": 0.05,
        "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host, "port": plc.port}],
        "buttons": buttons, "lights": lights if line == "line1" else [],
    }  # fmt: skip


@dataclass
class SiteFiles:
    hub: Path
    edges: dict[str, Path]
    ca: Path
    api_port: int


def write_site(work: Path, plc: SimulatedPlc) -> tuple[SiteFiles, SecuredBroker]:
    """The site's files, and the broker's generated from them (not started)."""
    ca, cert, key = make_certificates(work / "certs")
    broker = SecuredBroker(
        work / "mosquitto", work / "data", work / "mosquitto.log", free_port(), free_port()
    )
    api_port = free_port()
    hub = write_yaml(
        work / "hub.yaml",
        hub_settings(broker_settings(broker, "hub", ca), work / "hub.sqlite3", api_port),
    )
    edges = {
        line: write_yaml(
            work / f"edge-{line}.yaml",
            edge_settings(line, broker_settings(broker, f"edge-{line}", ca), plc, work),
        )
        for line in STATIONS
    }
    done = run_deploy(
        hub, list(edges.values()), broker.out,
        "--tls-port", str(broker.tls_port), "--local-port", str(broker.local_port),
        "--cafile", str(ca), "--certfile", str(cert), "--keyfile", str(key),
        "--data-dir", str(broker.data_dir), "--run-as", getpass.getuser(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return SiteFiles(hub, edges, ca, api_port), broker


@dataclass
class RawClient:
    """An MQTT 5 client over the TLS listener: the broker's reason code for each QoS 1
    publish (``Not authorized`` for what the ACL denies), and what it received."""

    user: str
    broker: SecuredBroker
    ca: Path
    pubacks: dict[int, str] = field(default_factory=dict)
    received: list[tuple[str, bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=f"raw-{self.user}-{time.time_ns()}",
            protocol=paho.MQTTv5,
        )  # fmt: skip
        self._client.tls_set(ca_certs=str(self.ca))
        self._client.username_pw_set(self.user, self.broker.password(self.user))
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", self.broker.tls_port)
        self._client.loop_start()

    def _on_publish(self, client: Any, userdata: Any, mid: int, code: Any, props: Any) -> None:
        with self._lock:
            self.pubacks[mid] = str(code)

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        with self._lock:
            self.received.append((message.topic, message.payload))

    def publish(self, topic: str, payload: bytes | str) -> str:
        """Publish with QoS 1; the broker's PUBACK reason."""
        info = self._client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self._lock:
                if info.mid in self.pubacks:
                    return self.pubacks[info.mid]
            time.sleep(0.01)
        raise AssertionError(f"no PUBACK for {topic}")

    def subscribe(self, *filters: str) -> None:
        for topic_filter in filters:
            self._client.subscribe(topic_filter, qos=1)

    def topics(self) -> list[str]:
        with self._lock:
            return [topic for topic, _ in self.received]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def press(plc: SimulatedPlc, coil: int) -> None:
    """A worker presses and releases the call button on ``coil``."""
    plc.set_coil(coil, True)
    time.sleep(0.3)
    plc.set_coil(coil, False)
    time.sleep(0.15)


def outbox_events(files: SiteFiles, line: str) -> list[int]:
    """Sequence numbers of the events still in the edge's outbox (not its measurements)."""
    path = files.hub.parent / f"outbox-{line}.sqlite3"
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT seq FROM pending WHERE droppable = 0 ORDER BY seq")
        return [int(seq) for (seq,) in rows]
    finally:
        db.close()


def api_client(files: SiteFiles, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"http://127.0.0.1:{files.api_port}",
        timeout=5,
        headers={"Authorization": f"Bearer {token}"},
    )


def edge_process(files: SiteFiles, line: str) -> AndonProcess:
    path = files.edges[line]
    return AndonProcess("edge", path, path.parent / f"edge-{line}.log")

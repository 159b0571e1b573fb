"""A hub alone (no edge, no PLC) with a line of two stations and a line of twenty, for the
pages at phone and at wall size: calls are raised through the API as a station's panel
would, and maintenance calls escalate to two people on a local receiver, one of whom
reads Chinese (``language: zh`` in the hub's file).

Mosquitto is started because the hub needs its broker; nothing is published to it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from contract.netutil import free_port
from testbed.broker import MosquittoBroker
from tests.helpers.plant import AndonProcess, create_tokens, wait_hub_healthy, write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import wait_until
from tests.helpers.web import CALL_TYPES, REASON_CODES

FEW = "line1"  # two stations
MANY = "line2"  # twenty stations
MANY_STATIONS = [f"s{number:02}" for number in range(1, 21)]
PHONE = {"width": 390, "height": 844}
WALLS = [{"width": 1920, "height": 1080}, {"width": 3840, "height": 2160}]
LOCALES = {"en": "en-GB", "zh": "zh-CN"}


@dataclass
class FloorHub:
    base_url: str
    tokens: dict[str, str]
    receiver: Receiver

    def api(self, role: str = "admin") -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=5)

    def raise_call(self, line: str, station: str, call_type: str = "quality") -> int:
        body = {"area": "assembly", "line": line, "station": station, "call_type": call_type}
        with self.api("station") as api:
            raised = api.post("/api/calls", json=body)
        assert raised.status_code == 201, raised.text
        call_id: int = raised.json()["id"]
        return call_id

    def call(self, call_id: int) -> dict[str, Any]:
        with self.api("viewer") as api:
            found: dict[str, Any] = api.get(f"/api/calls/{call_id}").json()
        return found

    def ack_url(self, person: str, call_id: int) -> str:
        """The acknowledgement link ``person`` was sent for ``call_id``."""

        def sent() -> list[str]:
            bodies = [r.json() for r in self.receiver.on(f"/{person}")]
            return [b["ack_url"] for b in bodies if b["call_id"] == call_id]

        url: str = wait_until(sent, what=f"{person}'s link")[0]
        return url


def _settings(broker: MosquittoBroker, prefix: str, port: int, db: Path) -> dict[str, Any]:
    many = [
        {"id": s, "name": f"Station {s[1:]}", "names": {"zh": f"{int(s[1:])}号工位"}}
        for s in MANY_STATIONS
    ]
    few = [
        {"id": "st01", "name": "Press-fit", "names": {"zh": "压装"}},
        {"id": "st02", "name": "Screwing", "names": {"zh": "拧紧"}},
    ]
    return {
        "site": "plant1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
        "storage": {"path": str(db)},
        "api": {"host": "127.0.0.1", "port": port},
        "timezone": "Asia/Shanghai",
        "call_types": CALL_TYPES,
        "reason_codes": REASON_CODES,
        "areas": [
            {
                "id": "assembly",
                "lines": [
                    {"id": FEW, "name": "Line 1", "names": {"zh": "一号线"}, "stations": few},
                    {"id": MANY, "name": "Line 2", "names": {"zh": "二号线"}, "stations": many},
                ],
            }
        ],
    }


def _escalation(receiver: Receiver, base_url: str) -> dict[str, Any]:
    return {
        "people": [
            {"id": "li-wei", "name": "Li Wei", "language": "zh",
             "notify": [f"andon+http://s3cret@{receiver.url}/li-wei"]},
            {"id": "sam", "name": "Sam Okafor", "notify": [f"andon+http://s3cret@{receiver.url}/sam"]},
        ],
        "escalation": {
            "policies": [
                {
                    "id": "maintenance-calls",
                    "match": {"call_types": ["maintenance"]},
                    "ack_timeout_s": 3600,
                    "levels": [{"after_s": 0, "notify": ["person:li-wei", "person:sam"]}],
                }
            ],
            "public_url": base_url,
        },
    }  # fmt: skip


@contextmanager
def floor_hub(tmp_path: Path, broker: MosquittoBroker, prefix: str) -> Iterator[FloorHub]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with Receiver() as receiver:
        settings = _settings(broker, prefix, port, tmp_path / "hub.sqlite3")
        config = write_yaml(tmp_path / "hub.yaml", settings | _escalation(receiver, base_url))
        roles = ("viewer", "station", "responder", "admin")
        made = create_tokens(config, {f"{role}-token": (role, []) for role in roles})
        tokens = {role: made[f"{role}-token"] for role in roles}
        hub = AndonProcess("hub", config, tmp_path / "hub.log")
        try:
            hub.start()
            with httpx.Client(base_url=base_url, timeout=2) as client:
                wait_hub_healthy(client)
            yield FloorHub(base_url, tokens, receiver)
        finally:
            hub.stop()

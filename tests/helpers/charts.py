"""What the pages' tests send through the broker as edges do: a gauge's measurement
points and an SPC core's anomalies."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from contract.wire import AnomalyEvent, MeasurementEvent, Topics, event_json, make_event_id, utc_now
from testbed.broker import MosquittoBroker
from tests.helpers.waiting import wait_until
from tests.helpers.web import WebPlant

GAUGE = "gauge-line1"  # an edge of its own, so its sequence numbers are its own


class Gauge:
    """Publishes measurement messages to the hub as an edge does, one per poll cycle."""

    def __init__(self, broker: MosquittoBroker, prefix: str) -> None:
        self._topic = Topics(prefix).measurement("plant1", GAUGE)
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id=GAUGE)
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        self._seq = 0

    def send(self, points: list[dict[str, Any]], at: datetime | None = None) -> None:
        self._seq += 1
        event = MeasurementEvent.model_validate(
            {
                "event_id": make_event_id(GAUGE, self._seq), "edge_id": GAUGE,
                "seq": self._seq, "ts": at or utc_now(), "site": "plant1",
                "area": "assembly", "line": "line1", "kind": "measurement",
                "payload": {"readings": [], "points": points},
            }
        )  # fmt: skip
        self._client.publish(self._topic, event_json(event), qos=1).wait_for_publish(5)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def bore(subgroup: int, value: float, *tests: int, station: str = "st10") -> dict[str, Any]:
    return {
        "station": station, "characteristic": "bore", "chart": "imr", "measurement": "bore_mm",
        "subgroup": subgroup, "value": value, "center": 10.0, "lcl": 9.7, "ucl": 10.3,
        "tests": list(tests), "part": {"serial": f"SN{subgroup:04d}"}, "unit": "mm",
    }  # fmt: skip


def stored(plant: WebPlant, count: int) -> None:
    with plant.api() as api:
        wait_until(
            lambda: len(api.get("/api/characteristics/bore/points").json()["points"]) >= count,
            what=f"{count} points stored",
        )


class SpcEdge:
    """An edge's SPC core as the broker sees it: anomaly events on its stations' topics."""

    def __init__(self, plant: WebPlant, broker: MosquittoBroker, prefix: str) -> None:
        self.plant = plant
        self.broker = broker
        self.topics = Topics(prefix)
        self.seq = 0

    def anomaly(self, station: str, characteristic: str) -> int:
        """Publish an anomaly on ``characteristic`` at ``station``; its id at the hub."""
        self.seq += 1
        event = AnomalyEvent.model_validate(
            {
                "event_id": make_event_id("edge-spc", self.seq), "edge_id": "edge-spc",
                "seq": self.seq, "ts": utc_now(), "kind": "anomaly", "site": "plant1",
                "area": "assembly", "line": "line1", "station": station,
                "payload": {
                    "characteristic": characteristic, "chart": "imr",
                    "measurement": characteristic, "tests": [1], "value": 10.5,
                    "center": 10.0, "lcl": 9.7, "ucl": 10.3, "subgroup": self.seq,
                },
            }
        )  # fmt: skip
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"spc-{time.time_ns()}")
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        topic = self.topics.event("plant1", "assembly", "line1", station)
        client.publish(topic, event_json(event), qos=1).wait_for_publish(timeout=5)
        client.loop_stop()
        client.disconnect()
        with self.plant.api("viewer") as api:

            def stored() -> list[dict[str, Any]]:
                found = api.get("/api/anomalies", params={"station": station}).json()
                return [a for a in found["anomalies"] if a["event_id"] == event.event_id]

            return int(wait_until(stored, what="the anomaly at the hub")[0]["id"])

    def call_for(self, anomaly_id: int) -> int:
        with self.plant.api("station") as api:
            response = api.post(f"/api/anomalies/{anomaly_id}/call")
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

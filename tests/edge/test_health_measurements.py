"""/healthz says ok only once the measurement process is subscribed too.

Found in tests: the hub answered 200 about a second before its measurement process had
subscribed at the broker, so an edge's first readings (a counter's base, a value sent
only on change) could find no subscriber and be dropped by the broker. A plant's start
script or a load balancer that waits for 200 now knows measurements are taken in.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from contract.netutil import free_port
from contract.wire import Topics, make_event_id, utc_now
from edge.measurement_json import measurement_json
from testbed.broker import MosquittoBroker
from tests.helpers.plant import AndonProcess, measurement_messages, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system


def _hub_file(tmp_path: Path, broker: MosquittoBroker, prefix: str, port: int) -> Path:
    return write_yaml(
        tmp_path / "hub.yaml",
        {
            "site": "p",
            "broker": {"host": broker.host, "port": broker.port, "topic_prefix": prefix},
            "storage": {"path": str(tmp_path / "hub.sqlite3")},
            "api": {"host": "127.0.0.1", "port": port},
            "call_types": ["maintenance"],
            "reason_codes": ["adjusted"],
            "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "st10"}]}]}],
        },
    )


def test_a_measurement_published_as_soon_as_the_hub_is_healthy_is_stored(
    tmp_path: Path, broker: MosquittoBroker, topic_prefix: str
) -> None:
    port = free_port()
    hub = AndonProcess("hub", _hub_file(tmp_path, broker, topic_prefix, port), tmp_path / "hub.log")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="edge-1")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        hub.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as api:
            wait_hub_healthy(api, what="hub healthy")
            assert api.get("/healthz").json()["measurements_subscribed"] is True
            head = {
                "event_id": make_event_id("edge-1", 1), "edge_id": "edge-1", "seq": 1,
                "ts": utc_now(), "site": "p", "area": "a", "line": "l",
            }  # fmt: skip
            body = measurement_json(head, [("st10", "temp", 21.5, "degC")], [], {})
            topic = Topics(topic_prefix).measurement("p", "edge-1")
            client.publish(topic, body, qos=1).wait_for_publish(5)
            wait_until(
                lambda: measurement_messages(api.get("/metrics").text, "stored") >= 1,
                what="the measurement stored",
            )
    finally:
        client.loop_stop()
        client.disconnect()
        hub.stop()

"""Two ``andon hub`` processes with one ``shared_group`` on one PostgreSQL share the
edges' measurement messages as they share the calls: each message is taken in by one hub
(so neither hub has a copy to count as a duplicate) and each SPC point is stored once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from contract.wire import Topics, event_json, utc_now
from testbed.broker import MosquittoBroker
from tests.helpers.deploy import SITE, publish, query, two_hub_files
from tests.helpers.measurement_messages import EDGE, POINTS, measurement_event
from tests.helpers.plant import AndonProcess
from tests.helpers.waiting import wait_until

MESSAGES = 120  # one SPC point each: the point's subgroup is the message's sequence


def measurement_messages(prefix: str) -> list[tuple[str, str]]:
    topic = Topics(prefix).measurement(SITE, EDGE)
    start = utc_now()
    events = [
        measurement_event(
            seq,
            at=start + timedelta(seconds=seq),
            readings=[],
            points=[POINTS[0] | {"subgroup": seq}],
        )
        for seq in range(1, MESSAGES + 1)
    ]
    return [(topic, event_json(event)) for event in events]


def outcomes(config: Path) -> dict[str, float]:
    """A hub's measurement messages by outcome, from its /metrics."""
    port = yaml.safe_load(config.read_text())["api"]["port"]
    body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(body):
        if family.name == "andon_hub_measurement_messages":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["outcome"]] = sample.value
    return found


def measurements_subscribed(hub: AndonProcess) -> bool:
    return "measurements subscribed at broker" in hub.log()


def taken_in(files: list[Path]) -> float:
    return sum(sum(outcomes(path).values()) for path in files)


def test_two_hubs_of_one_shared_group_store_each_measurement_once(
    tmp_path: Path, broker: MosquittoBroker, postgres_url: str, topic_prefix: str
) -> None:
    files = two_hub_files(tmp_path, broker, postgres_url, topic_prefix)
    hubs = [AndonProcess("hub", path, tmp_path / f"{path.stem}.log") for path in files]
    for hub in hubs:
        hub.start()
    try:
        for hub in hubs:
            wait_until(lambda: measurements_subscribed(hub), timeout=60, what="subscribed")  # noqa: B023  # called at once
        publish(broker, measurement_messages(topic_prefix))
        # The counts reach each hub's /metrics from its measurement process every second.
        wait_until(lambda: taken_in(files) >= MESSAGES, timeout=60, what="every message")
        by_hub = [outcomes(path) for path in files]
        points = query(postgres_url, "SELECT subgroup FROM spc_points ORDER BY subgroup")
    finally:
        for hub in hubs:
            hub.stop()
    assert [row.subgroup for row in points] == list(range(1, MESSAGES + 1))
    assert sum(hub.get("stored", 0) for hub in by_hub) == MESSAGES
    assert all(hub.get("duplicate", 0) == 0 for hub in by_hub), by_hub  # no second copy
    assert all(hub.get("stored", 0) > 0 for hub in by_hub), by_hub  # each took a share

"""Two ``andon hub`` processes on one PostgreSQL share the site's messages through an
MQTT shared subscription: every press is stored once, also when one hub is killed."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from contract.wire import CallPayload, Event, Topics, event_json, make_event_id, utc_now
from testbed.broker import MosquittoBroker
from testbed.postgres import PostgresServer
from tests.helpers.deploy import LINES, SITE, publish, subscribed, two_hub_files
from tests.helpers.plant import AndonProcess
from tests.helpers.waiting import wait_until

PRESSES = 100


def presses(prefix: str, seqs: range) -> list[tuple[str, str]]:
    topics = Topics(prefix)
    stations = [(line, s) for line, names in LINES.items() for s in names]
    messages = []
    for seq in seqs:
        line, station = stations[seq % len(stations)]
        event = Event(
            event_id=make_event_id("edge-sim", seq), edge_id="edge-sim", seq=seq, ts=utc_now(),
            kind="call", site=SITE, area="assembly", line=line, station=station,
            payload=CallPayload(call_type="maintenance" if seq % 2 else "quality"),
        )  # fmt: skip
        messages.append((topics.event(SITE, "assembly", line, station), event_json(event)))
    return messages


def stored(url: str) -> tuple[int, int]:
    """(events recorded once each, presses counted on calls)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM processed_events")).scalar()
            counted = connection.execute(sa.text("SELECT sum(presses) FROM calls")).scalar()
    except sa.exc.ProgrammingError:  # the hubs have not made the tables yet
        return 0, 0
    finally:
        engine.dispose()
    return int(events or 0), int(counted or 0)


@pytest.mark.parametrize("killed", [0, 1], ids=["hub-a killed", "hub-b killed"])
def test_two_hubs_store_every_press_once_with_one_killed(
    tmp_path: Path, broker: MosquittoBroker, postgres_url: str, topic_prefix: str, killed: int
) -> None:
    files = two_hub_files(tmp_path, broker, postgres_url, topic_prefix)
    hubs = [AndonProcess("hub", path, tmp_path / f"{path.stem}.log") for path in files]
    for hub in hubs:
        hub.start()
    try:
        for hub in hubs:
            wait_until(lambda: subscribed(hub), timeout=60, what="subscribed")  # noqa: B023  # called at once
        half = PRESSES // 2
        publish(broker, presses(topic_prefix, range(1, half + 1)))
        # Killed mid-stream, with messages committed but not acknowledged, or not committed.
        hubs[killed].stop(signal.SIGKILL)
        at_kill = stored(postgres_url)[0]
        publish(broker, presses(topic_prefix, range(half + 1, PRESSES + 1)))
        # The other hub goes on storing its share while the killed one is down ...
        wait_until(lambda: stored(postgres_url)[0] > max(at_kill, half), what="the survivor")
        # ... and Mosquitto keeps the killed hub's share in its session until it is back
        # (systemd or compose restart it): then each press is stored, and once only.
        hubs[killed].start()
        wait_until(lambda: stored(postgres_url)[0] >= PRESSES, timeout=60, what="every press")
        assert stored(postgres_url) == (PRESSES, PRESSES)
    finally:
        for hub in hubs:
            hub.stop()


def test_two_hubs_starting_together_on_an_empty_postgresql_both_start(
    tmp_path: Path, broker: MosquittoBroker, postgres: PostgresServer, topic_prefix: str
) -> None:
    """Both used to run the migrations at once, and one died creating alembic_version."""
    for attempt in range(3):  # a race: a few chances to show
        name = f"race_{uuid.uuid4().hex}"
        directory = tmp_path / str(attempt)
        directory.mkdir()
        files = two_hub_files(directory, broker, postgres.create_database(name), topic_prefix)
        hubs = [AndonProcess("hub", path, directory / f"{path.stem}.log") for path in files]
        for hub in hubs:
            hub.start()
        try:
            for hub in hubs:
                wait_until(lambda: subscribed(hub) or exited(hub), timeout=60, what="start")  # noqa: B023
                assert subscribed(hub), hub.log()
        finally:
            for hub in hubs:
                hub.stop()
            postgres.drop_database(name)


def exited(hub: AndonProcess) -> bool:
    return hub.process is None or hub.process.poll() is not None

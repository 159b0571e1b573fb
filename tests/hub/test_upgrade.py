"""A database written by the first release is upgraded in place, its calls intact."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy

from contract.wire import CallPayload, Event
from hub.calls.records import CallFilter
from hub.calls.repository import Store
from hub.calls.station_events import IngestOutcome
from hub.db.engine import open_engine, upgrade
from tests.hub.conftest import hub_settings
from tests.plant import write_yaml

SKELETON_DB = Path(__file__).parent / "data" / "skeleton-0.1.sqlite3"


def test_andon_db_upgrade_keeps_every_call_of_the_first_releases_database(
    tmp_path: Path,
) -> None:
    database = tmp_path / "hub.sqlite3"
    shutil.copy(SKELETON_DB, database)
    config = write_yaml(tmp_path / "hub.yaml", hub_settings(f"sqlite:///{database}"))
    done = subprocess.run(
        [sys.executable, "-m", "andon.cli", "db", "upgrade", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("database at revision 0013")

    engine = open_engine(f"sqlite:///{database}")
    store = Store(engine)
    calls = store.list_calls(CallFilter())
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    assert [(c.id, c.station, c.call_type, c.state, c.presses) for c in calls] == [
        (1, "st10", "maintenance", "resolved", 2),
        (2, "st20", "quality", "acknowledged", 1),
        (3, "st20", "help", "raised", 1),
    ]
    first = calls[0]
    assert (first.raised_at, first.reason_code, first.note) == (
        t0,
        "tool-worn",
        "replaced the insert",
    )
    assert first.received_at == datetime(2026, 11, 30, 8, 0, 0, 20000, tzinfo=UTC)
    assert calls[2].received_at == datetime(2026, 11, 30, 8, 2, 1, tzinfo=UTC)
    assert [e.action for e in store.timeline(1)] == ["raised", "acknowledged", "resolved"]
    assert [e.action for e in store.timeline(3)] == ["raised"]
    # The old processed events still deduplicate: a redelivered press is not a new call.
    redelivered = Event(
        event_id="edge-line1:4", edge_id="edge-line1", seq=4, ts=t0, kind="call",
        site="plant1", area="assembly", line="line1", station="st20",
        payload=CallPayload(call_type="help"),
    )  # fmt: skip
    assert store.ingest([redelivered], t0) == [(IngestOutcome.DUPLICATE, 3)]
    with sqlite3.connect(database) as raw:
        ids = [row[0] for row in raw.execute("SELECT event_id FROM processed_events")]
        times = [row[0] for row in raw.execute("SELECT raised_at FROM calls ORDER BY id")]
    assert ids == ["edge-line1:1", "edge-line1:2", "edge-line1:3", "edge-line1:4"]
    assert times[0] == "2026-11-30T08:00:00.000000+00:00"  # one width: sorts as time
    assert upgrade(engine) == "0013"  # a second upgrade changes nothing
    assert len(store.list_calls(CallFilter())) == 3
    engine.dispose()


def test_a_new_database_gets_the_whole_schema(database_url: str) -> None:
    engine = open_engine(database_url)
    assert upgrade(engine) == "0013"
    tables = set(sqlalchemy.inspect(engine).get_table_names())
    assert {"calls", "call_events", "processed_events", "edges", "api_tokens", "audit_log"} <= (
        tables
    )
    engine.dispose()

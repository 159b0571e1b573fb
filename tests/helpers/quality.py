"""Quality counters for report tests: the site's week in Shanghai and an edge publishing
its stations' counter readings through the hub's measurement writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from contract.wire import MeasurementEvent, Topics, event_json, make_event_id
from hub.measurements.repository import MeasurementStore
from hub.measurements.subscription import MeasurementSubscriber
from hub.process.live_config import LiveConfig
from tests.helpers.hub import SITE

# Shanghai is UTC+8: 01:00 UTC is 09:00 there (the early shift), 07:00 UTC is 15:00 (the
# late shift) and 15:00 UTC is 23:00 (no shift). 2026-11-30 is the Monday of ISO week 49.
MONDAY = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # 2026-11-30 00:00 in Shanghai
EARLY, LATE, NIGHT = timedelta(hours=9), timedelta(hours=15), timedelta(hours=23)
ST10 = {"line": "line1", "station": "st10", "inspected": "made", "defective": "bad",
        "reworked": "rework", "wraps_at": 65536}  # fmt: skip
ST20 = {"line": "line1", "station": "st20", "inspected": "made", "defective": "bad"}


class Counters:
    """An edge publishing its stations' counter readings, one message per reading."""

    def __init__(self, app: FastAPI) -> None:
        live: LiveConfig = app.state.config
        self.writer = MeasurementSubscriber(
            config=lambda: live.current, store=MeasurementStore(app.state.store)
        )
        self.seq = 0

    def read(self, at: datetime, station: str, **values: int) -> None:
        """The edge read ``values`` (measurement name -> counter value) at ``at``."""
        self.seq += 1
        readings = [{"station": station, "name": n, "value": v} for n, v in values.items()]
        event = MeasurementEvent.model_validate(
            {
                "event_id": make_event_id("edge-1", self.seq), "edge_id": "edge-1",
                "seq": self.seq, "ts": at, "site": SITE, "area": "assembly", "line": "line1",
                "kind": "measurement", "payload": {"readings": readings, "points": []},
            }
        )  # fmt: skip
        stored = self.writer.write(
            [(Topics().measurement(SITE, "edge-1"), event_json(event).encode())]
        )
        assert len(stored) == 1

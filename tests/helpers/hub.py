"""The hub in-process on a real database (SQLite and PostgreSQL), its API over ASGI.

The app runs its real lifespan (schema upgrade, store, subscriber); requests go through
httpx's ASGI transport, which also lets a test choose the client's address.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from contract.netutil import free_port
from contract.wire import CallPayload, Event, make_event_id, utc_now
from hub.access.permissions import Role
from hub.access.tokens import TokenStore
from hub.calls.records import Call, CallFilter
from hub.calls.repository import Store
from hub.calls.station_events import IngestOutcome
from hub.db.paging import MAX_PAGE
from hub.edges.ingest import Ingest, Result
from hub.process.live_config import LiveConfig

SITE = "plant1"
LINES = {"line1": ["st10", "st20"], "line2": ["st30"]}


def hub_settings(database_url: str, *, broker_port: int | None = None) -> dict[str, Any]:
    return {
        "site": SITE,
        # Nothing listens here unless a test starts a broker: the hub keeps retrying.
        "broker": {"host": "127.0.0.1", "port": broker_port or free_port()},
        "storage": {"url": database_url},
        "call_types": ["maintenance", {"id": "quality", "verify": True}, "help"],
        "reason_codes": ["tool-worn", "adjusted"],
        "areas": [
            {
                "id": "assembly",
                "lines": [
                    {"id": line, "stations": [{"id": s} for s in stations]}
                    for line, stations in LINES.items()
                ],
            }
        ],
    }


@dataclass
class HubUnderTest:
    app: FastAPI
    config_path: Path
    seq: int = 0
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def store(self) -> Store:
        store: Store = self.app.state.store
        return store

    @property
    def ingest(self) -> Ingest:
        """Ingest in this process, on the app's store and running configuration."""
        live: LiveConfig = self.app.state.config
        return Ingest(config=lambda: live.current, store=self.store)

    def token(self, role: Role, *lines: str) -> str:
        name = f"{role}-{'-'.join(lines) or 'all'}"
        if name not in self.tokens:
            self.tokens[name] = TokenStore(self.store).create(
                name=name, role=role, lines=lines, actor="test", now=utc_now()
            )
        return self.tokens[name]

    def client(
        self, role: Role | None = None, *lines: str, address: str = "127.0.0.1"
    ) -> httpx.AsyncClient:
        headers = {} if role is None else {"Authorization": f"Bearer {self.token(role, *lines)}"}
        transport = httpx.ASGITransport(app=self.app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://hub", headers=headers)

    def press(
        self,
        station: str = "st10",
        call_type: str = "maintenance",
        *,
        line: str = "line1",
        at: datetime | None = None,
    ) -> tuple[str, bytes]:
        """One press as the edge would publish it: (topic, payload)."""
        self.seq += 1
        event = Event(
            event_id=make_event_id("edge-test", self.seq),
            edge_id="edge-test",
            seq=self.seq,
            ts=at or utc_now(),
            kind="call",
            site=SITE,
            area="assembly",
            line=line,
            station=station,
            payload=CallPayload(call_type=call_type),
        )
        topic = self.ingest.topics.event(SITE, "assembly", line, station)
        return topic, event.model_dump_json().encode()

    def ingest_presses(self, *messages: tuple[str, bytes]) -> list[Result]:
        """Apply messages as one batch, counted in the app's metrics like the real path."""
        report = self.ingest.handle_batch(list(messages))
        report.count_in(self.app.state.metrics)
        return report.results

    def raise_call(self, station: str = "st10", call_type: str = "maintenance", **kw: Any) -> int:
        """A new call through ingest; its id."""
        (result,) = self.ingest_presses(self.press(station, call_type, **kw))
        assert result is IngestOutcome.NEW_CALL, result
        return self.store_calls()[0].id

    def store_calls(self) -> list[Call]:
        """Every call, newest first, read straight from the store."""
        return self.store.list_calls(CallFilter(limit=MAX_PAGE, newest_first=True))

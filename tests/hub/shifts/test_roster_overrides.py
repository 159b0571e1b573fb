"""Roster overrides through the real hub on both databases: made by a team leader through
the API and the command line, refused with a reason, honoured by the escalation at the
moment it routes (across midnight and across Europe/Berlin's change back to winter
time), and shown by ``andon escalation explain``.

The hub's own engine is stopped; a second engine on the same database runs its passes
at a chosen moment (its ``clock``), so a night in December 2026 or October's repeated
hour is reached without waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from andon.cli import main
from hub.access.permissions import Role
from hub.calls.lifecycle import Actor, Source
from hub.calls.repository import NewCall
from hub.escalation.deliveries import SENT
from hub.escalation.engine import EscalationEngine
from hub.escalation.snapshot import snapshots_from
from hub.process.live_config import LiveConfig
from tests.helpers.escalation import attempts, escalation_settings, hook, running_hub
from tests.helpers.hub import SITE, HubUnderTest
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

BERLIN = ZoneInfo("Europe/Berlin")
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as started:
        yield started


def night_settings(database_url: str, receiver: Receiver) -> dict[str, Any]:
    """Wang works every night (22:00-06:00, Berlin); Chen is in no roster at all."""
    settings = escalation_settings(
        database_url, receiver, levels=[{"after_s": 0, "notify": ["roster:night"]}]
    )
    settings["timezone"] = "Europe/Berlin"
    settings["people"] += [
        {"id": "wang", "name": "Wang Lei", "notify": [hook(receiver, "wang")]},
        {"id": "chen", "name": "Chen Jie", "notify": [hook(receiver, "chen")]},
    ]
    night = {"members": ["wang"], "days": EVERY_DAY, "start": "22:00", "end": "06:00"}
    settings["rosters"] = [
        {"id": "night", "timezone": "Europe/Berlin", "shifts": [night], "fallback": ["boss"]}
    ]
    return settings


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A wall-clock time in Berlin as UTC; ``fold=1`` the second of a repeated time."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold).astimezone(UTC)


@contextlib.asynccontextmanager
async def hub_without_its_engine(path: Path) -> AsyncIterator[HubUnderTest]:
    async with running_hub(path) as hub:
        hub.app.state.escalation.stop()
        (task,) = [t for t in asyncio.all_tasks() if t.get_name() == "hub-escalation"]
        await stopped(task)
        yield hub


async def stopped(task: asyncio.Task[None]) -> None:
    """Wait for an engine asked to stop: it leaves its loop by a CancelledError of its own."""
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def escalate_at(hub: HubUnderTest, receiver: Receiver, moment: datetime) -> str:
    """Raise a call at ``moment`` and run the escalation then: who was told."""
    live: LiveConfig = hub.app.state.config
    where = NewCall(
        site=SITE, area="assembly", line="line1", station="st10", call_type="maintenance",
        needs_verification=False,
    )  # fmt: skip
    actor = Actor("panel", Source.API)
    call, _ = hub.store.raise_call(
        call=where, actor=actor, now=moment, snapshot_for=snapshots_from(live.current)
    )
    before = len(receiver.received)
    engine = EscalationEngine(store=hub.store, config=lambda: live.current, clock=lambda: moment)
    task = asyncio.create_task(engine.run())
    try:
        # Until its outcome is written too: a send cut off by the stop would be sent again
        # (with the same idempotency key) by the next engine, as after a crash.
        await until(
            lambda: (
                len(receiver.received) > before
                and all(a["status"] == SENT for a in attempts(hub.store))
            ),
            what=f"a message at {moment} sent and recorded",
        )
    finally:
        engine.stop()
        await stopped(task)
    hub.store.transition(call.id, "cancel", moment, actor=actor)
    (message,) = receiver.received[before:]
    return message.path.strip("/")


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def andon(*args: str) -> Ran:
    """``andon ARGS`` in this process (the command line's own code, without a Python
    start-up per command): its exit status and what it printed."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(args))
    return Ran(status, out.getvalue(), err.getvalue())


async def test_chen_covers_wang_across_midnight_and_the_clock_change(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    path = write_yaml(tmp_path / "hub.yaml", night_settings(database_url, receiver))
    async with hub_without_its_engine(path) as hub:
        async with hub.client(Role.ENGINEER) as leader:
            body = {"person": "chen", "covers": "wang", "starts": "2026-12-08 22:00"}
            made = await leader.post("/api/roster-overrides", json={**body, "ends": "06:00"})
        assert made.status_code == 201, made.text
        december = made.json()
        assert (december["starts_local"], december["ends_local"]) == (
            "2026-12-08 22:00", "2026-12-09 06:00"
        )  # fmt: skip
        starts = datetime.fromisoformat(december["starts_at"])
        ends = datetime.fromisoformat(december["ends_at"])
        assert (starts, ends) == (berlin(2026, 12, 8, 22), berlin(2026, 12, 9, 6))

        # The night the clocks go back (03:00 CEST -> 02:00 CET), from the command line.
        added = andon(
            "roster", "override", "add", "--config", str(path), "--person", "chen",
            "--covers", "wang", "--from", "2026-10-24 22:00", "--to", "06:00",
            "--note", "Wang on leave",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "chen covers wang from 2026-10-24 22:00 to 2026-10-25 06:00" in added.stdout
        async with hub.client(Role.VIEWER) as viewer:
            listed = await viewer.get(
                "/api/roster-overrides", params={"since": "2026-01-01T00:00:00Z"}
            )
        october, again = listed.json()["overrides"]
        assert again == december
        october_span = datetime.fromisoformat(october["ends_at"]) - datetime.fromisoformat(
            october["starts_at"]
        )
        assert october_span == timedelta(hours=9)  # 8 hours of clock, plus the repeated one
        assert october["note"] == "Wang on leave"
        assert october["created_by"] == "command line"
        await refusals_leave_the_overrides_as_they_were(hub, listed.json())

        moments = {
            berlin(2026, 12, 8, 22, 0): "chen",
            berlin(2026, 12, 9, 0, 30): "chen",  # past midnight
            # At 06:00 the override and the shift end: the roster's fallback answers.
            berlin(2026, 12, 9, 6, 0): "boss",
            berlin(2026, 12, 10, 0, 30): "wang",  # the next night, not overridden
            berlin(2026, 10, 25, 2, 30, fold=0): "chen",  # summer time, first 02:30
            berlin(2026, 10, 25, 2, 30, fold=1): "chen",  # winter time, second 02:30
            berlin(2026, 10, 25, 5, 59): "chen",
            berlin(2026, 10, 24, 21, 59): "boss",  # before both
        }
        told = {moment: await escalate_at(hub, receiver, moment) for moment in moments}
        assert told == moments

        explained = andon(
            "escalation", "explain", "--config", str(path), "--line", "line1", "--station",
            "st10", "--call-type", "maintenance", "--at", "2026-12-09T00:30",
        )  # fmt: skip
        assert explained.returncode == 0, explained.stderr
        assert f"chen via roster:night: covers wang (roster override {december['id']})" in (
            explained.stdout
        )
        assert "wang via" not in explained.stdout

        # Listed and removed from the command line too: the next pass forgets it.
        listed_cli = andon("roster", "override", "list", "--config", str(path), "--all")
        assert listed_cli.stdout.splitlines() == [
            f"{october['id']}\tchen covers wang from 2026-10-24 22:00 to 2026-10-25 06:00 "
            "(Europe/Berlin): Wang on leave",
            f"{december['id']}\tchen covers wang from 2026-12-08 22:00 to 2026-12-09 06:00 "
            "(Europe/Berlin)",
        ]
        removed = andon("roster", "override", "remove", "--config", str(path), str(december["id"]))
        assert removed.returncode == 0, removed.stderr
        assert await escalate_at(hub, receiver, berlin(2026, 12, 9, 0, 30)) == "wang"
        again_removed = andon(
            "roster", "override", "remove", "--config", str(path), str(december["id"])
        )
        assert again_removed.returncode == 1
        assert f"no roster override {december['id']}" in again_removed.stderr


REFUSED = [
    ({"person": "nobody", "covers": "wang"}, 409, "person: unknown person 'nobody'"),
    ({"covers": "chen"}, 409, "a person cannot cover themselves"),
    ({"starts": "2026-12-10 22:00", "ends": "2026-12-10 21:00"}, 409, "must end after it starts"),
    ({"starts": "2026-12-10 22:00", "ends": "2027-02-10 21:00"}, 409, "at most 31 days"),
    ({"starts": "2026-02-30 22:00"}, 409, "no such date"),
    ({"starts": "2026-12-09 05:00"}, 409, "chen already covers wang from 2026-12-08 22:00"),
    ({"starts": "10.12.2026 22:00"}, 422, "body.starts: String should match pattern"),
    ({"ends": "24:00"}, 422, "body.ends: String should match pattern"),
]


async def refusals_leave_the_overrides_as_they_were(
    hub: HubUnderTest, before: dict[str, Any]
) -> None:
    good = {"person": "chen", "covers": "wang", "starts": "2026-12-10 22:00", "ends": "06:00"}
    async with hub.client(Role.ENGINEER) as leader, hub.client(Role.RESPONDER) as responder:
        for change, status, why in REFUSED:
            refused = await leader.post("/api/roster-overrides", json={**good, **change})
            assert refused.status_code == status, (change, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert why in refused.json()["detail"], (change, refused.text)
        forbidden = await responder.post("/api/roster-overrides", json=good)
        assert forbidden.status_code == 403
        assert (await leader.delete("/api/roster-overrides/999999")).status_code == 404
        after = await leader.get("/api/roster-overrides", params={"since": "2026-01-01T00:00Z"})
    assert after.json() == before

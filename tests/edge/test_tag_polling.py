"""The poller of devices read by address (``edge.tag_polling``) on an S7 PLC
(python-snap7's server): debounce, long press, deadband, and a refused tag among good
ones, as the recorder turns them into events in the outbox."""

from __future__ import annotations

import asyncio
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from contract.wire import Topics
from drivers import S7Config
from edge.config import ButtonConfig, EdgeConfig, LongPressConfig, MeasurementConfig
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.tag_polling import tag_pollers, tag_polling
from rules.registers import ValueType
from testbed.s7_plc import SimulatedS7Plc
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

WAIT_S = 10.0


def _config(s7: SimulatedS7Plc, **keys: Any) -> EdgeConfig:
    device = S7Config.model_validate(s7.device(timeout_s=1))
    return EdgeConfig(
        edge_id="e", site="s", area="a", line="l", poll_interval_s=0.05, devices=[device],
        **keys,
    )  # fmt: skip


def _events(outbox: Outbox, kind: str) -> list[dict[str, Any]]:
    bodies = [json.loads(e.body) for e in outbox.pending()]
    return [b for b in bodies if b.get("kind") == kind]


async def test_a_long_press_counts_while_the_button_is_still_held(
    tmp_path: Path, s7: SimulatedS7Plc
) -> None:
    button = ButtonConfig(
        device="plc7", address="M0.3", station="st10", call_type="quality",
        long_press=LongPressConfig(hold_s=0.3, call_type="line-down"),
    )  # fmt: skip
    config = _config(s7, buttons=[button], debounce_s=0.0)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    try:
        async with tag_polling(config, recorder):
            s7.flags[0] = 0b1000
            await until(lambda: recorder.presses >= 1, timeout=WAIT_S)
            held = s7.flags[0]
            s7.flags[0] = 0
        calls = _events(outbox, "call")
    finally:
        outbox.close()
    assert held == 0b1000  # counted before the release
    assert [c["payload"]["call_type"] for c in calls] == ["line-down"]


async def test_a_contact_shorter_than_the_debounce_is_no_press(
    tmp_path: Path, s7: SimulatedS7Plc
) -> None:
    buttons = [
        ButtonConfig(device="plc7", address="DB10.DBX0.0", station="st10", call_type="help"),
        ButtonConfig(device="plc7", address="DB10.DBX0.1", station="st10", call_type="quality"),
    ]
    config = _config(s7, buttons=buttons, debounce_s=0.5)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    try:
        async with tag_polling(config, recorder):
            s7.db10[0] = 0b01  # a blip: seen, and gone before the debounce is over
            await asyncio.sleep(0.15)
            s7.db10[0] = 0b10  # held past the debounce
            await until(lambda: recorder.presses >= 1, timeout=WAIT_S)
            await asyncio.sleep(0.6)  # time enough for a wrong press of the blip to count
        calls = _events(outbox, "call")
    finally:
        outbox.close()
    assert [c["payload"]["call_type"] for c in calls] == ["quality"]


async def test_measurements_keep_their_deadband_and_a_refused_tag_spares_the_others(
    tmp_path: Path, s7: SimulatedS7Plc
) -> None:
    measurements = [
        MeasurementConfig(name="force", device="plc7", address="DB10.DBD4",
                          type=ValueType.FLOAT32, station="st10", deadband=1.0),
        MeasurementConfig(name="gone", device="plc7", address="DB99.DBW0", station="st10"),
        MeasurementConfig(name="count", device="plc7", address="MW2", station="st10"),
    ]  # fmt: skip
    config = _config(s7, measurements=measurements)
    struct.pack_into(">f", s7.db10, 4, 10.0)
    struct.pack_into(">H", s7.flags, 2, 7)
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    recorder = Recorder(config, outbox, Topics())
    try:
        async with tag_polling(config, recorder):
            await until(lambda: recorder.latest.get("count") == 7, timeout=WAIT_S)
            struct.pack_into(">f", s7.db10, 4, 10.5)  # within the deadband
            await asyncio.sleep(0.2)
            struct.pack_into(">f", s7.db10, 4, 12.0)
            await until(lambda: recorder.latest.get("force") == 12.0, timeout=WAIT_S)
            recorder.flush_measurements()
        readings = [
            (r["name"], r["value"])
            for m in _events(outbox, "measurement")
            for r in m["payload"]["readings"]
        ]
    finally:
        outbox.close()
    forces = [value for name, value in readings if name == "force"]
    assert forces == [10.0, 12.0]
    assert "gone" not in recorder.latest


async def test_test_mode_names_each_failure_when_the_plc_is_away(s7: SimulatedS7Plc) -> None:
    config = _config(
        s7, buttons=[ButtonConfig(device="plc7", address="I0.0", station="st10", call_type="help")]
    )
    s7.stop()
    (poller,) = tag_pollers(config, _NoSink())
    try:
        failures = await poller.poll_once()
    finally:
        await poller.driver.disconnect()
    assert [(f.device, f.table, f.address) for f in failures] == [("plc7", None, "I0.0")]
    assert "cannot connect" in failures[0].error


class _NoSink:
    def button(self, tag: object, pressed: bool, now: float) -> None:
        raise AssertionError("no button sample while the PLC is away")

    def device_state(self, device: str, *, up: bool, reason: str = "") -> None:
        assert not up

    def cycle_done(self, poller: object) -> None:
        del poller

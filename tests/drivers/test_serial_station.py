"""The serial button station driver against a real pty pair from socat."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import TypeAdapter, ValidationError

from contract.backoff import Backoff
from drivers import (
    ButtonEvent,
    DeviceConfig,
    DeviceMisconfigured,
    DeviceUnavailable,
    SerialButtonStationConfig,
    SerialButtonStationDriver,
    Table,
    open_driver,
)
from drivers.serial_frames import MAX_SEQ, ButtonFrame, HeartbeatFrame, encode
from tests.helpers.ptys import PtyPair, nothing_more, take
from tests.helpers.waiting import until


def _config(pair: PtyPair, heartbeat_timeout_s: float = 3.0) -> SerialButtonStationConfig:
    return SerialButtonStationConfig(
        kind="serial_button_station",
        id="box1",
        port=str(pair.device_path),
        heartbeat_timeout_s=heartbeat_timeout_s,
    )


def _quick_backoff() -> Backoff:
    return Backoff(initial=0.02, cap=0.1, rng=random.Random(0))


def _press(button: str, seq: int, *, pressed: bool = True, station: str = "st10") -> bytes:
    return encode(ButtonFrame(station=station, button=button, pressed=pressed, seq=seq))


def _heartbeat(seq: int, station: str = "st10") -> bytes:
    return encode(HeartbeatFrame(station=station, seq=seq))


def _summary(events: list[ButtonEvent]) -> list[tuple[str, str, bool, int]]:
    return [(e.station, e.button, e.pressed, e.seq) for e in events]


async def _opened(pair: PtyPair) -> SerialButtonStationDriver:
    driver = SerialButtonStationDriver(_config(pair), backoff=_quick_backoff())
    await driver.__aenter__()
    # Bytes sent before the port is open are flushed by the open itself: wait for it.
    await until(lambda: driver.port_open, what="the port is open")
    return driver


@pytest.mark.asyncio
async def test_frames_written_to_the_port_arrive_as_events(pty_pair: PtyPair) -> None:
    driver = await _opened(pty_pair)
    try:
        before = time.monotonic()
        pty_pair.write(_press("maint", 1) + _press("maint", 2, pressed=False))
        pty_pair.write(_press("quality", 3))
        events = await take(driver.events(), 3)
        assert _summary(events) == [
            ("st10", "maint", True, 1),
            ("st10", "maint", False, 2),
            ("st10", "quality", True, 3),
        ]
        assert all(before <= e.read_at <= time.monotonic() for e in events)
        stats = driver.stats
        assert stats.frames_ok == 3
        assert stats.heartbeats == 0
        assert dict(stats.rejected) == {}
        assert stats.sequence_gaps == 0
    finally:
        await driver.__aexit__(None, None, None)


@pytest.mark.asyncio
async def test_bad_frames_are_counted_and_the_good_ones_around_them_read(
    pty_pair: PtyPair,
) -> None:
    driver = await _opened(pty_pair)
    try:
        good = [_press("b1", 1), _press("b2", 2), _press("b3", 3), _press("b4", 4)]
        corrupted = bytearray(_press("b9", 9))
        corrupted[6] ^= 0x01  # one bit flipped on the wire
        pty_pair.write(b"\x00\xff\xfe line noise\r\n" + good[0][:7])  # garbage, then half
        pty_pair.write(good[0][7:] + bytes(corrupted) + b"$XYZ,st10,1*00\r\n")
        pty_pair.write(b"A" * 500)  # a run with no line end: overlong
        pty_pair.write(b"\r\n" + good[1] + b"$BTN,st10,b1,X,5*")  # cut off by the next frame
        pty_pair.write(b"\r\n" + good[2] + b"\x13\x37$NOPE\r\n" + good[3])
        events = await take(driver.events(), 4)
        assert [e.button for e in events] == ["b1", "b2", "b3", "b4"]
        assert dict(driver.stats.rejected) == {
            "garbage": 2,  # the noisy line, and the two bytes before "$NOPE"
            "bad_checksum": 2,  # the flipped bit, and "$XYZ" whose "*00" is wrong
            "overlong": 1,
            "malformed": 2,  # the frame cut off after "*", and "$NOPE"
        }
        assert driver.stats.frames_ok == 4
    finally:
        await driver.__aexit__(None, None, None)


@pytest.mark.asyncio
async def test_unknown_types_and_bad_fields_are_counted(pty_pair: PtyPair) -> None:
    driver = await _opened(pty_pair)
    try:
        unknown = b"$LED,st10,red,1*%02X\r\n" % _xor(b"LED,st10,red,1")
        bad_fields = b"$BTN,st10,b1,X,5*%02X\r\n" % _xor(b"BTN,st10,b1,X,5")
        pty_pair.write(unknown + bad_fields + _press("b1", 6))
        assert _summary(await take(driver.events(), 1)) == [("st10", "b1", True, 6)]
        assert dict(driver.stats.rejected) == {"unknown_type": 1, "bad_fields": 1}
    finally:
        await driver.__aexit__(None, None, None)


def _xor(body: bytes) -> int:
    value = 0
    for byte in body:
        value ^= byte
    return value


async def _beat(pair: PtyPair, first_seq: int) -> None:
    """Send heartbeats as a box does, only faster, until cancelled."""
    for seq in range(first_seq, MAX_SEQ + 1):
        pair.write(_heartbeat(seq))
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _beating(pair: PtyPair, first_seq: int) -> AsyncIterator[None]:
    task = asyncio.create_task(_beat(pair, first_seq), name="heartbeats")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.wait({task})


@pytest.mark.asyncio
async def test_a_station_without_heartbeats_goes_offline_and_comes_back(
    pty_pair: PtyPair,
) -> None:
    # Heartbeats keep coming while the test looks, so a slow machine cannot miss the
    # online state; then they stop, and only a timeout far below WAIT_S must pass.
    config = _config(pty_pair, heartbeat_timeout_s=0.5)
    async with SerialButtonStationDriver(config, backoff=_quick_backoff()) as driver:
        await until(lambda: driver.port_open, what="the port is open")
        assert not driver.online, "no frame yet: not known to be alive"
        async with _beating(pty_pair, first_seq=0):
            await until(lambda: driver.online, what="heartbeats make it online")
        await until(lambda: not driver.online, what="silence makes it offline")
        heartbeats = driver.stats.heartbeats  # all sent are read: silence came after them
        first_heartbeat_at = driver.stats.last_heartbeat_at
        assert heartbeats >= 1
        assert first_heartbeat_at is not None
        async with _beating(pty_pair, first_seq=heartbeats):
            await until(lambda: driver.online, what="heartbeats bring it back")
        stats = driver.stats
        assert stats.heartbeats > heartbeats
        assert stats.last_heartbeat_at is not None
        assert stats.last_heartbeat_at > first_heartbeat_at
        assert stats.sequence_gaps == 0
        assert dict(stats.rejected) == {}


@pytest.mark.asyncio
async def test_lost_frames_show_as_sequence_gaps(pty_pair: PtyPair) -> None:
    async with SerialButtonStationDriver(_config(pty_pair)) as driver:
        await until(lambda: driver.port_open, what="the port is open")
        pty_pair.write(_heartbeat(65534) + _heartbeat(65535) + _press("b1", 0))  # wraps
        pty_pair.write(_press("b1", 2, pressed=False))  # seq 1 was lost
        await take(driver.events(), 2)
        assert driver.stats.sequence_gaps == 1


@pytest.mark.asyncio
async def test_a_vanished_port_is_unavailable_then_read_again_when_back(
    pty_pair: PtyPair,
) -> None:
    config = _config(pty_pair, heartbeat_timeout_s=60)
    async with SerialButtonStationDriver(config, backoff=_quick_backoff()) as driver:
        await until(lambda: driver.port_open, what="the port is open")
        pty_pair.write(_heartbeat(1) + _press("b1", 2))
        assert _summary(await take(driver.events(), 1)) == [("st10", "b1", True, 2)]
        assert driver.online

        pty_pair.stop()  # the cable is pulled
        with pytest.raises(DeviceUnavailable, match="box1"):
            await take(driver.events(), 1)
        assert not driver.port_open
        assert not driver.online

        pty_pair.start()  # plugged in again, at the same path
        await until(lambda: driver.port_open, what="the port is open again")
        assert not driver.online, "frames from before the outage do not count"
        pty_pair.write(_press("b1", 3, pressed=False))
        assert _summary(await take(driver.events(), 1)) == [("st10", "b1", False, 3)]
        assert driver.online


@pytest.mark.asyncio
async def test_a_port_missing_at_start_is_unavailable_once_until_it_appears(
    stopped_pty_pair: PtyPair,
) -> None:
    config = _config(stopped_pty_pair)
    async with SerialButtonStationDriver(config, backoff=_quick_backoff()) as driver:
        events = driver.events()
        with pytest.raises(DeviceUnavailable, match="could not open port"):
            await take(events, 1)
        # Retries go on behind the scenes without raising again for the same outage.
        await nothing_more(events)
        stopped_pty_pair.start()
        await until(lambda: driver.port_open, what="the port is open")
        stopped_pty_pair.write(_press("b7", 1))
        assert _summary(await take(events, 1)) == [("st10", "b7", True, 1)]


@pytest.mark.asyncio
async def test_a_port_already_in_use_is_unavailable(pty_pair: PtyPair) -> None:
    async with SerialButtonStationDriver(_config(pty_pair)) as first:
        await until(lambda: first.port_open, what="the first driver has the port")
        async with SerialButtonStationDriver(_config(pty_pair)) as second:
            with pytest.raises(DeviceUnavailable, match="exclusively lock"):
                await take(second.events(), 1)
        pty_pair.write(_press("b1", 1))
        assert len(await take(first.events(), 1)) == 1


@pytest.mark.asyncio
async def test_cancelling_a_reading_task_finishes_promptly_every_time(
    pty_pair: PtyPair,
) -> None:
    rng = random.Random(8)
    config = _config(pty_pair)

    async def read_forever() -> None:
        async with SerialButtonStationDriver(config, backoff=_quick_backoff()) as driver:
            while True:  # as a consumer does: an outage ends one loop, not the reading
                with contextlib.suppress(DeviceUnavailable):
                    async for _ in driver.events():
                        pass

    for round_number in range(12):
        if round_number == 8:
            pty_pair.stop()  # the last rounds cancel while the port is missing
        task = asyncio.create_task(read_forever(), name=f"reader-{round_number}")
        deadline = time.monotonic() + rng.uniform(0.0, 0.3)
        seq = 0
        while time.monotonic() < deadline:
            if round_number < 8:
                seq += 1
                pty_pair.write(_press("b1", seq % 65536) + b"\x00noise\n")
            await asyncio.sleep(rng.uniform(0.0, 0.02))
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=1.0)
        assert task in done, f"round {round_number}: the reader did not stop within 1 s"
        assert task.cancelled()


@pytest.mark.asyncio
async def test_a_cancelled_wait_for_an_event_loses_nothing(pty_pair: PtyPair) -> None:
    async with SerialButtonStationDriver(_config(pty_pair)) as driver:
        await until(lambda: driver.port_open, what="the port is open")
        events = driver.events()

        async def next_event() -> ButtonEvent:
            return await anext(events)

        for round_number in range(5):
            waiting = asyncio.create_task(next_event(), name=f"wait-{round_number}")
            await asyncio.sleep(0.05)
            waiting.cancel()
            done, _ = await asyncio.wait({waiting}, timeout=1.0)
            assert waiting in done
        pty_pair.write(_press("b1", 1))
        assert _summary(await take(events, 1)) == [("st10", "b1", True, 1)]


@pytest.mark.asyncio
async def test_nobody_consuming_keeps_memory_bounded(pty_pair: PtyPair) -> None:
    config = _config(pty_pair)
    async with SerialButtonStationDriver(config, queue_size=5) as driver:
        await until(lambda: driver.port_open, what="the port is open")
        pty_pair.write(b"".join(_press("b1", seq) for seq in range(20)))
        await until(lambda: driver.stats.frames_ok == 20, what="all frames are parsed")
        assert driver.stats.dropped_events == 15
        assert [e.seq for e in await take(driver.events(), 5)] == [15, 16, 17, 18, 19]


@pytest.mark.asyncio
async def test_reading_by_address_is_refused_and_a_closed_driver_does_not_hang(
    pty_pair: PtyPair,
) -> None:
    driver = SerialButtonStationDriver(_config(pty_pair))
    async with driver:
        with pytest.raises(DeviceMisconfigured, match="arrive as events"):
            await driver.read(Table.COIL, 0, 1)
    with pytest.raises(DeviceUnavailable, match="closed"):
        await take(driver.events(), 1)


def test_config_is_strict_and_registered() -> None:
    adapter: TypeAdapter[DeviceConfig] = TypeAdapter(DeviceConfig)
    config = adapter.validate_python(
        {"kind": "serial_button_station", "id": "box1", "port": "/dev/ttyUSB0"}
    )
    assert isinstance(config, SerialButtonStationConfig)
    assert (config.baudrate, config.bytesize, config.parity, config.stopbits) == (9600, 8, "N", 1)
    assert config.heartbeat_timeout_s == 3.0
    assert isinstance(open_driver(config), SerialButtonStationDriver)
    with pytest.raises(ValidationError, match="Extra inputs"):
        adapter.validate_python(
            {"kind": "serial_button_station", "id": "b", "port": "/dev/x", "baud": 1}
        )
    with pytest.raises(ValidationError, match="port"):
        adapter.validate_python({"kind": "serial_button_station", "id": "b", "port": "COM3"})
    with pytest.raises(ValidationError, match="parity"):
        adapter.validate_python(
            {"kind": "serial_button_station", "id": "b", "port": "/dev/x", "parity": "X"}
        )

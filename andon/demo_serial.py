"""The demo's serial devices: a button box and a scanner, each on one end of a pty pair.

socat joins two ptys back to back (testbed.ptys); the edge agent opens one end as it
would open /dev/ttyUSB0, and the demo writes to the other what a box (heartbeats, a
press now and then, in the line protocol of docs/serial-protocol.md) or a scanner (a
serial number per part) would send.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine
from typing import Any

from drivers.serial_frames import ButtonFrame, Frame, HeartbeatFrame, encode
from edge.config import EdgeConfig
from testbed.ptys import PtyPair

log = logging.getLogger(__name__)


async def play_button_box(pty: PtyPair, *, station: str, button: str, press_every_s: float) -> None:
    """A box's heartbeat every second, and a press of ``button`` every ``press_every_s``."""
    try:
        await _button_box(pty, station=station, button=button, press_every_s=press_every_s)
    except OSError as error:
        log.warning("button box at %s: its serial line is gone (%s); it stops", station, error)


async def _button_box(pty: PtyPair, *, station: str, button: str, press_every_s: float) -> None:
    seq = itertools.count()
    with pty.device_end.open("wb", buffering=0) as line:

        async def send(frame: Frame) -> None:
            await asyncio.to_thread(line.write, encode(frame))

        beats = max(1, round(press_every_s))
        for beat in itertools.count(1):
            await send(HeartbeatFrame(station, next(seq) % 65536))
            if beat % beats == 0:
                log.info("button box at %s: %s pressed", station, button)
                await send(ButtonFrame(station, button, True, next(seq) % 65536))
                await asyncio.sleep(0.3)
                await send(ButtonFrame(station, button, False, next(seq) % 65536))
            await asyncio.sleep(1.0)


async def play_scanner(pty: PtyPair, *, station: str, every_s: float) -> None:
    """A serial number scanned at ``station`` every ``every_s``, as a part comes in."""
    try:
        with pty.device_end.open("wb", buffering=0) as line:
            for part in itertools.count(1):
                serial = f"SN{part:06d}"
                await asyncio.to_thread(line.write, f"{serial}\r\n".encode("ascii"))
                print(f"scanner at {station}: {serial}", flush=True)
                await asyncio.sleep(every_s)
    except OSError as error:
        log.warning("scanner at %s: its serial line is gone (%s); it stops", station, error)


SERIAL_KINDS = ("serial_button_station", "serial_scanner")


def serial_devices(edge: EdgeConfig) -> list[str]:
    """The ids of the edge's serial devices, each of which the demo plays on a pty pair."""
    return [device.id for device in edge.devices if device.kind in SERIAL_KINDS]


def players(
    edge: EdgeConfig, ptys: dict[str, PtyPair], press_every_s: float
) -> list[Coroutine[Any, Any, None]]:
    """What each serial device of ``edge`` sends, on its pty pair."""
    played: list[Coroutine[Any, Any, None]] = []
    for device in edge.devices:
        if device.kind == "serial_scanner":
            played.append(play_scanner(ptys[device.id], station=device.station, every_s=5.0))
        elif device.kind == "serial_button_station":
            # The box's first button: a press every few rounds of the PLC buttons' presses.
            button = next(b for b in edge.buttons if b.device == device.id)
            assert button.button is not None  # a serial station's buttons have their id
            played.append(
                play_button_box(
                    ptys[device.id],
                    station=button.station,
                    button=button.button,
                    press_every_s=press_every_s * 7,
                )
            )
    return played

"""One clean press through the whole plant, and presses at a rate over many stations.

A press: the button's coil is set on the line's PLC (``pressed_at``) and held until the
call event left the edge (at least ``HOLD_S``, as a worker holds a button), then
released, and left released at least as long (``RELEASE_S``) before the station may be
pressed again: a release shorter than a poll interval can fall between two reads, and
the edge then rightly sees one long press, not two. The benchmark waits for the call
stored at the hub (its confirmation to the edge), the station's amber coil, the
responder's notification and, when the board is watched, the tile turning ``raised``;
then resolves the call through the API and waits for the green coil (and the tile
``idle``) before the station may be pressed again.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from bench.e2e_board import BoardWatch
from bench.e2e_plant import REASON, Plant, edge_id
from bench.e2e_watch import CoilWatch, Sightings, StationKey, Stopping

HOLD_S = 0.3
RELEASE_S = 0.3  # at least; two poll intervals where those are longer
TIMEOUT_S = 15.0  # per press: anything not seen by then counts as lost


@dataclass
class Press:
    """What one press produced: each sighting's time.time(), None if never seen."""

    line: str
    station: str
    pressed_at: float = 0.0
    published_at: float | None = None
    stored_at: float | None = None
    light_command_at: float | None = None
    light_at: float | None = None
    notified_at: float | None = None
    board_at: float | None = None
    call_id: int | None = None
    cleared: bool = False  # resolved, its light green again (and its tile idle)


@dataclass
class Bench:
    plant: Plant
    sightings: Sightings
    coils: CoilWatch
    board: BoardWatch
    done: list[Press] = field(default_factory=list)

    def deadline(self, press: Press) -> float:
        return time.monotonic() + max(0.0, press.pressed_at + TIMEOUT_S - time.time())


def press_once(bench: Bench, line: str, station: str) -> Press:
    """Press, watch every hop, resolve, wait for green; the press with its sightings.
    Returns no sooner than ``RELEASE_S`` (or two poll intervals) after the release."""
    released: list[float] = []
    try:
        return _press(bench, line, station, released)
    finally:
        if released:
            rest = max(RELEASE_S, 2 * bench.plant.layout.poll_interval_s)
            time.sleep(max(0.0, released[0] + rest - time.monotonic()))


def _press(bench: Bench, line: str, station: str, released: list[float]) -> Press:
    plant, sightings = bench.plant, bench.sightings
    press = Press(line, station)
    plc, button = plant.plcs[line], plant.layout.button(station)
    amber = bench.coils.expect(plc, plant.layout.output(station, "amber"), True)
    events = sightings.events[(line, station)]
    press.pressed_at = time.time()
    plc.set_coil(button, True)
    try:
        sent = sightings.wait(lambda: _after(events, press), bench.deadline(press))
        time.sleep(max(0.0, press.pressed_at + HOLD_S - time.time()))
    finally:
        plc.set_coil(button, False)
        released.append(time.monotonic())
    if sent is None:
        return press
    press.published_at, edge, seq = sent
    if edge != edge_id(line):
        raise RuntimeError(f"a call at {line}/{station} came from edge {edge}")
    press.stored_at = sightings.wait(
        lambda: sightings.stored.get((edge, seq)), bench.deadline(press)
    )
    with plant.api() as api:
        press.call_id = _open_call(bench, api, press)
        if press.call_id is None:
            return press
        _watch_the_rest(bench, press, amber)
        press.cleared = _resolve(bench, api, press)
    return press


def _after(seen: list[tuple[float, str, int]], press: Press) -> tuple[float, str, int] | None:
    return next((s for s in seen if s[0] >= press.pressed_at), None)


def _first(seen: list[tuple[float, str]], since: float, state: str) -> float | None:
    return next((at for at, got in seen if at >= since and got == state), None)


def _open_call(bench: Bench, api: httpx.Client, press: Press) -> int | None:
    """The id of the open call at the press's station (the API answers after the commit)."""

    def probe() -> int | None:
        params = {"line": press.line, "station": press.station, "state": "raised"}
        calls = api.get("/api/calls", params=params).json()["calls"]
        return int(calls[-1]["id"]) if calls else None

    deadline = bench.deadline(press)
    while time.monotonic() < deadline:
        found = probe()
        if found is not None:
            return found
        time.sleep(0.05)
    return None


def _watch_the_rest(bench: Bench, press: Press, amber: list[float]) -> None:
    sightings, key = bench.sightings, (press.line, press.station)
    deadline = bench.deadline(press)
    press.light_at = sightings.wait(lambda: amber[0] if amber else None, deadline)
    press.light_command_at = _first(sightings.light_commands[key], press.pressed_at, "raised")
    call = press.call_id
    press.notified_at = sightings.wait(lambda: sightings.notifications.get(call or -1), deadline)
    if bench.board.shows(press.line):
        board = sightings.board[key]
        press.board_at = sightings.wait(lambda: _first(board, press.pressed_at, "raised"), deadline)


def _resolve(bench: Bench, api: httpx.Client, press: Press) -> bool:
    plant, sightings, key = bench.plant, bench.sightings, (press.line, press.station)
    green_coil = plant.layout.output(press.station, "green")
    green = bench.coils.expect(plant.plcs[press.line], green_coil, True)
    resolved_at = time.time()
    answer = api.post(f"/api/calls/{press.call_id}/resolve", json={"reason_code": REASON})
    if answer.status_code != 200:
        return False
    deadline = time.monotonic() + TIMEOUT_S
    if sightings.wait(lambda: green[0] if green else None, deadline) is None:
        return False
    if bench.board.shows(press.line):
        board = sightings.board[key]
        return sightings.wait(lambda: _first(board, resolved_at, "idle"), deadline) is not None
    return True


def press_at_rate(bench: Bench, *, presses: int, rate_per_s: float, seed: int = 11) -> None:
    """``presses`` presses, their starts a Poisson process of ``rate_per_s`` (so they fall
    anywhere in the edges' poll cycles), each on a random station with no press under way;
    a station whose press was not cleared is not pressed again."""
    rng = random.Random(seed)
    layout = bench.plant.layout
    free = _FreeStations([(line, s) for line in layout.line_ids() for s in layout.station_ids()])
    futures: list[Future[Press]] = []
    next_at = time.monotonic()
    with ThreadPoolExecutor(max_workers=32, thread_name_prefix="e2e-press") as pool:
        try:
            for _ in range(presses):
                next_at += rng.expovariate(rate_per_s)
                time.sleep(max(0.0, next_at - time.monotonic()))
                key = free.take(rng, bench.sightings)
                future = pool.submit(press_once, bench, *key)
                future.add_done_callback(_release(free, key, bench))
                futures.append(future)
            for future in futures:
                future.result()
        except BaseException:
            bench.sightings.stop()  # the presses under way give up at once
            raise


def _release(free: _FreeStations, key: StationKey, bench: Bench) -> Callable[[Future[Press]], None]:
    def done(future: Future[Press]) -> None:
        press = None if future.exception() else future.result()
        if press is not None:
            bench.done.append(press)
        free.give_back(key, usable=press is not None and press.cleared)

    return done


class _FreeStations:
    """Stations with no press under way."""

    def __init__(self, stations: list[StationKey]) -> None:
        self._free = list(stations)
        self._busy = 0
        self._changed = threading.Condition()

    def take(self, rng: random.Random, sightings: Sightings) -> StationKey:
        with self._changed:
            while not self._free:
                if sightings.stopping:
                    raise Stopping
                if not self._busy:
                    raise RuntimeError("no station left to press: each lost a press")
                self._changed.wait(0.5)
            self._busy += 1
            return self._free.pop(rng.randrange(len(self._free)))

    def give_back(self, key: StationKey, *, usable: bool) -> None:
        with self._changed:
            self._busy -= 1
            if usable:
                self._free.append(key)
            self._changed.notify_all()

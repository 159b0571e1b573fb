"""End-to-end benchmark: presses on simulated PLCs through the whole system, to the call
stored at the hub, the responder's notification, the station's tower light and the
andon board in a browser.

Real parts, all local (``andon bench e2e`` starts the broker and, for PostgreSQL, the
database, and hands them in): a pymodbus server (or, with ``--device opcua``, an OPC UA
one) per line as its PLC, an ``andon edge`` per line, one ``andon hub`` with an
escalation policy whose level 0 goes at once to a local webhook receiver, and the board
(``/board``) in headless Chromium.

Latencies are from the button's coil set on the PLC (``press_to_*_ms``):

- ``call``: the hub's confirmation of the call event passes the broker; the hub confirms
  only after it committed the call, so the call is stored.
- ``notification``: the receiver has the call's level-0 message.
- ``light``: the station's amber coil is set on the PLC (the edge's write of the hub's
  light command), seen by polling the coil in-process every millisecond.
- ``board``: the station's tile turns ``raised`` in the browser, on a sample: the
  presses of the first line, whose board (``/board/line01``) the browser shows.

``lost`` counts the presses that lacked any of a stored call, a notification or a light
within 15 s (``lost_calls``, ``lost_notifications``, ``lost_lights`` say which).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.e2e_board import BoardWatch
from bench.e2e_plant import Broker, Layout, Plant, PlcFactory, edge_id, running_plant
from bench.e2e_presses import Bench, Press, press_at_rate, press_once
from bench.e2e_watch import BrokerWatch, CoilWatch, NotificationReceiver, Sightings
from bench.usage import Usage, children

BOARD_READY_S = 120.0


@dataclass(frozen=True)
class Options:
    presses: int
    rate_per_s: float
    board: bool = True  # False: no browser (press_to_board_ms is null, with the reason)
    trace: Path | None = None  # a JSON line per press, with each hop's time, goes here


def run_e2e_bench(
    *, broker: Broker, plcs: PlcFactory, database_url: str, workdir: Path, layout: Layout,
    options: Options,
) -> dict[str, Any]:  # fmt: skip
    """The pinned keys (and a few more) of ``options.presses`` presses at their rate."""
    sightings = Sightings()
    receiver = NotificationReceiver(sightings)
    watch: BrokerWatch | None = None
    try:
        watch = BrokerWatch(broker, sightings)
        with running_plant(
            layout, workdir=workdir, broker=broker, plcs=plcs, database_url=database_url,
            hook=receiver.hook(),
        ) as plant:  # fmt: skip
            return _measure(plant, sightings, options)
    finally:
        sightings.stop()
        if watch is not None:
            watch.close()
        receiver.close()


def _measure(plant: Plant, sightings: Sightings, options: Options) -> dict[str, Any]:
    layout, presses, rate_per_s = plant.layout, options.presses, options.rate_per_s
    # One line's board, as the screen over that line shows it: its presses are the sample
    # (the whole plant's board redrawn 200 tiles at every change, and Chromium's share of
    # two busy cores slowed every other hop).
    board_line = layout.line_ids()[0]
    url = f"{plant.base_url}/board/{board_line}?token={plant.tokens['viewer']}"
    board = BoardWatch(url=url, line=board_line, tiles=layout.stations, sightings=sightings)
    before = children(os.getpid())
    _start_board(board, wanted=options.board)
    browser = children(os.getpid()) - before  # Playwright's driver, and Chromium under it
    try:
        bench = Bench(plant, sightings, CoilWatch(sightings), board)
        _progress(f"plant running; board: {board.reason or 'watched'}; warming up")
        warm_up = _warm_up(bench)
        _progress(f"pressing: {presses} presses at {rate_per_s:g}/s")
        seconds, used, load_before = _press_phase(bench, browser, options)
    finally:
        sightings.stop()
        board.stop()
    if options.trace is not None:
        write_trace(options.trace, warm_up=warm_up, presses=bench.done)
    result = _figures(layout, bench.done, board, rate_per_s=rate_per_s)
    result |= _usage_keys(used)
    result |= {
        "seconds": round(seconds, 1),
        "board_line": board_line if board.reason is None else None,
        "warmup_presses": len(warm_up),
        "warmup_lost": sum(1 for press in warm_up if _missing(press)),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    return result


def _press_phase(
    bench: Bench, browser: set[int], options: Options
) -> tuple[float, dict[str, dict[str, float]], float]:
    """The counted presses: their seconds, each process's usage, the load before them."""
    plant = bench.plant
    usages = {"hub": Usage(plant.hub.pid), "bench": Usage()}
    usages |= {"browser": Usage(*browser)} if browser else {}
    usages |= {line: Usage(edge.pid) for line, edge in plant.edges.items()}
    load_before = os.getloadavg()[0]
    for usage in usages.values():
        usage.begin()
    started = time.monotonic()
    press_at_rate(bench, presses=options.presses, rate_per_s=options.rate_per_s)
    seconds = time.monotonic() - started
    used = {name: usage.end() for name, usage in usages.items()}
    plant.check_running()
    return seconds, used, load_before


def _start_board(board: BoardWatch, *, wanted: bool) -> None:
    if not wanted:
        board.reason = "not watched (--no-board)"
        board.ready.set()
        return
    board.start()
    board.ready.wait(BOARD_READY_S)
    if not board.ready.is_set():
        board.reason = f"the board did not show its tiles within {BOARD_READY_S:.0f} s"


HOPS = {
    "publish": "published_at", "call": "stored_at", "light_command": "light_command_at",
    "light": "light_at", "notification": "notified_at", "board": "board_at",
}  # fmt: skip


def write_trace(path: Path, *, warm_up: list[Press], presses: list[Press]) -> None:
    """Each press on a line: where, when, and each hop's milliseconds from the press."""
    with path.open("w") as out:
        for press in [*warm_up, *presses]:
            hops = {
                hop: None if at is None else round((at - press.pressed_at) * 1000, 1)
                for hop, attribute in HOPS.items()
                for at in [getattr(press, attribute)]
            }
            line = {"line": press.line, "station": press.station, "pressed_at": press.pressed_at}
            out.write(json.dumps(line | {"warm_up": press in warm_up} | hops) + "\n")


def _progress(text: str) -> None:
    """A line on stderr for whoever watches the run (stdout is the JSON alone)."""
    print(f"andon bench e2e: {text}", file=sys.stderr, flush=True)


def _warm_up(bench: Bench) -> list[Press]:
    """One press per line, not counted: it pays for what each edge and the hub do once
    (their first statements, connections and code paths), not for each press."""
    layout = bench.plant.layout
    station = layout.station_ids()[-1]
    with ThreadPoolExecutor(max_workers=layout.lines) as pool:
        return list(pool.map(lambda line: press_once(bench, line, station), layout.line_ids()))


def _missing(press: Press) -> bool:
    return None in (press.stored_at, press.notified_at, press.light_at)


def _latencies(presses: list[Press], attribute: str) -> list[float]:
    return [
        (at - press.pressed_at) * 1000
        for press in presses
        if (at := getattr(press, attribute)) is not None
    ]


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None}
    return {
        "p50": round(statistics.median(values), 1),
        "p99": round(float(np.percentile(values, 99)), 1),
    }


def _figures(
    layout: Layout, presses: list[Press], board: BoardWatch, *, rate_per_s: float
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "lines": layout.lines,
        "stations": layout.stations,
        "presses": len(presses),
        "lost": sum(1 for press in presses if _missing(press)),
        "press_to_call_ms": percentiles(_latencies(presses, "stored_at")),
        "press_to_notification_ms": percentiles(_latencies(presses, "notified_at")),
        "press_to_light_ms": percentiles(_latencies(presses, "light_at")),
        "press_to_board_ms": None,
    }
    if board.reason is None:
        board_ms = _latencies(presses, "board_at")
        result["press_to_board_ms"] = percentiles(board_ms)
        result["board_presses"] = len(board_ms)
    else:
        result["press_to_board_reason"] = board.reason
    return result | _details(layout, presses, result, rate_per_s=rate_per_s)


def _details(
    layout: Layout, presses: list[Press], result: dict[str, Any], *, rate_per_s: float
) -> dict[str, Any]:
    """What was lost where, the hops between, the targets and whether they were met."""
    poll_ms = layout.poll_interval_s * 1000
    targets = {
        "press_to_light_ms.p99": 2 * poll_ms + 50,
        "press_to_notification_ms.p99": poll_ms + 150,
    }
    if layout.device == "opcua":  # no poll: the server sends a press as it happens
        targets = {"press_to_light_ms.p99": 100.0, "press_to_notification_ms.p99": 100.0}
    light_p99 = result["press_to_light_ms"]["p99"]
    notification_p99 = result["press_to_notification_ms"]["p99"]
    return {
        "lost_calls": sum(1 for press in presses if press.stored_at is None),
        "lost_notifications": sum(1 for press in presses if press.notified_at is None),
        "lost_lights": sum(1 for press in presses if press.light_at is None),
        "not_cleared": sum(1 for press in presses if not press.cleared),
        "press_to_publish_ms": percentiles(_latencies(presses, "published_at")),
        "press_to_light_command_ms": percentiles(_latencies(presses, "light_command_at")),
        "poll_interval_ms": poll_ms,
        "device": layout.device,
        "rate_per_s": rate_per_s,
        "targets": targets,
        "targets_met": result["lost"] == 0
        and light_p99 is not None
        and light_p99 < targets["press_to_light_ms.p99"]
        and notification_p99 is not None
        and notification_p99 < targets["press_to_notification_ms.p99"],
    }


def _usage_keys(used: dict[str, dict[str, float]]) -> dict[str, Any]:
    hub, bench, browser = used.pop("hub"), used.pop("bench"), used.pop("browser", None)
    edges = [{"edge_id": edge_id(line), "line": line, **usage} for line, usage in used.items()]
    return {
        "hub_cpu_percent": hub["cpu_percent"],
        "hub_rss_mb": hub["rss_mb"],
        "edges": edges,
        "edge_cpu_percent_mean": round(statistics.mean(u["cpu_percent"] for u in used.values()), 1),
        "edge_rss_mb_mean": round(statistics.mean(u["rss_mb"] for u in used.values()), 1),
        "bench_cpu_percent": bench["cpu_percent"],
        "browser_cpu_percent": None if browser is None else browser["cpu_percent"],
    }

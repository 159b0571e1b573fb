"""A badge scanned at a station's badge scanner, over a real pty pair from socat: the edge
stores an arrival event carrying the badge (not a part serial); a station's ``badge``
that names no scanner of the station is a configuration error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.config.loading import ConfigInvalid
from contract.wire import ArrivalEvent, Topics, parse_any_event
from edge.config import load_edge_config
from edge.listening import SerialListener
from edge.outbox import Outbox
from edge.recorder import Recorder
from tests.helpers.plant import write_yaml
from tests.helpers.ptys import PtyPair
from tests.helpers.waiting import until


@pytest.fixture
def scanner(tmp_path: Path) -> Iterator[PtyPair]:
    pair = PtyPair(tmp_path / "scanner")
    pair.device_path.parent.mkdir()
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()


def _settings(tmp_path: Path, port: Path, badge: str) -> dict[str, Any]:
    return {
        "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
        "broker": {"host": "127.0.0.1", "port": 1},  # never connected: the outbox is read
        "outbox": {"path": str(tmp_path / "outbox.sqlite3")},
        "devices": [{"kind": "serial_scanner", "id": "badge-st10", "station": "st10",
                     "port": str(port)}],
        "stations": [{"id": "st10", "badge": badge}],
    }  # fmt: skip


@pytest.mark.asyncio
async def test_a_badge_scan_is_an_arrival_event_carrying_the_badge(
    tmp_path: Path, scanner: PtyPair
) -> None:
    config = load_edge_config(
        write_yaml(tmp_path / "edge.yaml", _settings(tmp_path, scanner.device_path, "badge-st10"))
    )
    outbox = Outbox(Path(config.outbox.path))
    recorder = Recorder(config, outbox, Topics("t"))
    listener = SerialListener(config, recorder)
    try:
        async with listener.running():
            (driver,) = listener.drivers
            await until(lambda: driver.port_open, what="the scanner's port is open")
            scanner.write(b"0042\r\n")
            await until(lambda: outbox.pending_count() > 0, what="the scan is stored")
    finally:
        outbox.close()
    entries = Outbox(Path(config.outbox.path)).pending()
    events = [parse_any_event(entry.body) for entry in entries]
    arrivals = [e for e in events if isinstance(e, ArrivalEvent)]
    assert [(a.station, a.payload.badge, a.payload.call_type) for a in arrivals] == [
        ("st10", "0042", None)
    ]
    assert "st10" not in recorder.parts  # a badge is a person, not the part at the station


def test_a_badge_naming_no_scanner_of_the_station_is_refused(tmp_path: Path) -> None:
    path = write_yaml(tmp_path / "edge.yaml", _settings(tmp_path, tmp_path / "tty", "nothing"))
    with pytest.raises(ConfigInvalid) as refused:
        load_edge_config(path)
    assert "'nothing' is not a scanner of station st10" in str(refused.value)

"""The serial scanner driver: its line rules alone, then against a real pty pair."""

from __future__ import annotations

import random

import pytest
from pydantic import TypeAdapter, ValidationError

from contract.backoff import Backoff
from drivers import (
    DeviceConfig,
    DeviceMisconfigured,
    DeviceUnavailable,
    SerialScannerConfig,
    SerialScannerDriver,
    Table,
    open_driver,
)
from drivers.serial_scanner import ScanParser, ScanRejection
from tests.helpers.ptys import PtyPair, take
from tests.helpers.waiting import until


def _config(pair: PtyPair, **settings: str | int) -> SerialScannerConfig:
    return SerialScannerConfig.model_validate(
        {
            "kind": "serial_scanner",
            "id": "scan1",
            "port": str(pair.device_path),
            "station": "st10",
            **settings,
        }
    )


def _quick_backoff() -> Backoff:
    return Backoff(initial=0.02, cap=0.1, rng=random.Random(0))


def test_codes_end_at_cr_lf_or_crlf_and_lose_their_blanks() -> None:
    parser = ScanParser()
    assert parser.feed(b"SN-0001\rSN-0002\nSN-0003\r\n  LOT 42\t\r") == [
        "SN-0001",
        "SN-0002",
        "SN-0003",
        "LOT 42",
    ]
    # A CR ends the code at once; the LF after it, even in the next read, is no empty line.
    assert parser.feed(b"\nSN-0004\r") == ["SN-0004"]
    assert parser.feed(b"\n") == []
    assert not parser.rejected


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"", ScanRejection.EMPTY),
        (b"   \t ", ScanRejection.EMPTY),
        (b"A" * 65, ScanRejection.OVERLONG),
        (b"SN\x07001", ScanRejection.NON_PRINTABLE),
        (b"SN\xc3\xa9", ScanRejection.NON_PRINTABLE),
    ],
)
def test_bad_lines_are_rejected_for_their_reason(line: bytes, reason: ScanRejection) -> None:
    assert ScanParser(max_length=64).parse_line(line) == reason


def test_prefix_and_suffix_are_checked_and_stripped() -> None:
    parser = ScanParser(prefix="\x02", suffix="\x03", max_length=8)
    assert parser.feed(b"\x02E2004711\x03\r\n\x02\x03\r\nE2004711\x03\r\n\x02E2004711\r\n") == [
        "E2004711"
    ]
    assert parser.rejected == {
        ScanRejection.EMPTY: 1,
        ScanRejection.NO_PREFIX: 1,
        ScanRejection.NO_SUFFIX: 1,
    }


def test_a_run_without_line_end_is_dropped_once_and_reading_goes_on() -> None:
    parser = ScanParser(max_length=8)
    assert parser.feed(b"X" * 10_000) == []
    assert parser.feed(b"\r\nOK-1\r\n") == ["OK-1"]
    assert parser.rejected == {ScanRejection.OVERLONG: 1}


@pytest.mark.asyncio
async def test_scans_arrive_stripped_and_bound_to_the_station(pty_pair: PtyPair) -> None:
    config = _config(pty_pair, prefix="]C1", max_length=20)
    async with SerialScannerDriver(config) as scanner:
        await until(lambda: scanner.port_open, what="the port is open")
        pty_pair.write(b"]C1 SN-0001 \r\n]C1SN-00")
        pty_pair.write(b"02\r]C1\r\n")
        pty_pair.write(b"]C1SN\x1b[2J\r\n]C1" + b"9" * 30 + b"\r\n")
        pty_pair.write(b"SN-0003\n]C1SN-0004\n")
        scans = await take(scanner.events(), 3)
        assert [(s.station, s.code) for s in scans] == [
            ("st10", "SN-0001"),
            ("st10", "SN-0002"),
            ("st10", "SN-0004"),
        ]
        stats = scanner.stats
        assert stats.scans == 3
        assert dict(stats.rejected) == {
            "empty": 1,
            "non_printable": 1,
            "overlong": 1,
            "no_prefix": 1,
        }


@pytest.mark.asyncio
async def test_a_scanner_unplugged_and_plugged_in_again_is_read_again(
    pty_pair: PtyPair,
) -> None:
    async with SerialScannerDriver(_config(pty_pair), backoff=_quick_backoff()) as scanner:
        await until(lambda: scanner.port_open, what="the port is open")
        pty_pair.write(b"LOT-1\r\n")
        assert [s.code for s in await take(scanner.events(), 1)] == ["LOT-1"]
        pty_pair.stop()
        with pytest.raises(DeviceUnavailable, match="scan1"):
            await take(scanner.events(), 1)
        assert not scanner.port_open
        pty_pair.start()
        await until(lambda: scanner.port_open, what="the port is open again")
        pty_pair.write(b"LOT-2\r\n")
        assert [s.code for s in await take(scanner.events(), 1)] == ["LOT-2"]


@pytest.mark.asyncio
async def test_reading_a_scanner_by_address_is_refused(pty_pair: PtyPair) -> None:
    async with SerialScannerDriver(_config(pty_pair)) as scanner:
        with pytest.raises(DeviceMisconfigured, match="arrive as events"):
            await scanner.read(Table.HOLDING_REGISTER, 0, 1)


def test_scanner_config_is_strict_and_registered() -> None:
    adapter: TypeAdapter[DeviceConfig] = TypeAdapter(DeviceConfig)
    config = adapter.validate_python(
        {"kind": "serial_scanner", "id": "scan1", "port": "/dev/ttyACM0", "station": "st10"}
    )
    assert isinstance(config, SerialScannerConfig)
    assert (config.prefix, config.suffix, config.max_length) == ("", "", 64)
    assert isinstance(open_driver(config), SerialScannerDriver)
    base = {"kind": "serial_scanner", "id": "s", "port": "/dev/x"}
    with pytest.raises(ValidationError, match="station"):
        adapter.validate_python(base)
    with pytest.raises(ValidationError, match="prefix"):
        adapter.validate_python({**base, "station": "st10", "prefix": "\u00e9"})
    with pytest.raises(ValidationError, match="Extra inputs"):
        adapter.validate_python({**base, "station": "st10", "heartbeat_timeout_s": 1})

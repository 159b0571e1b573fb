"""A PLC that comes back after an outage is read again within a second, whatever the
outage's length: a Modbus TCP PLC (a real pymodbus server, stopped and started again on
its port) and a Modbus RTU one (the socat pty pair and its server gone, then back at the
same path), polled side by side as the edge polls them.

The outages last 10 s, 60 s and 5 minutes. The tries' schedule does not depend on the
outage's length (it reaches its ceiling of ``RETRY_WITHIN_S`` after a few tries), and
the test shows it on the wire: during the whole outage nineteen gaps in twenty between
two connection attempts stay within the ceiling plus one poll cycle (and a loaded
machine's slack), none comes near the old schedule's seconds, and the first poll that
succeeds is the first try after the device is back. The outages are driven and recorded
by bench/reconnect.py, which ``andon bench reconnect`` runs too: its figures are in
docs/benchmarks.md. The 5-minute run is
marked ``long``: the suite starts it first, so on three workers it runs beside the rest
instead of after it.

tests/drivers/test_modbus_tries.py tests the tries' pieces on their own: a black-holed host, a
connection closed under a request, a silent unit alone and on a shared link.

The TCP outage is half refused connections (nothing listens: a PLC rebooting) and half
a listener that accepts and closes each connection (a PLC whose network is up before its
Modbus server), which counts the attempts from the outside: they must be the ones the
link counted.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bench.reconnect import INTERVAL_S, Outcome, Plcs, measure_outage
from testbed.plc_sim import SimulatedPlc
from tests.helpers.reconnect import GAP_BOUND_S

# A test's clock is the machine's: on a CI machine whose cores other tests share, a gap
# now and then runs long. The schedule before this one left gaps of 4 to 30 s (its
# backoff grew to backoff_cap_s), so a bound of 2.5 s on the worst gap still tells them
# apart, while nineteen gaps in twenty must keep the schedule's own bound.
WORST_GAP_S = 2.5

PLCS = Plcs(
    tcp=lambda port: SimulatedPlc(port=port),
    rtu=lambda serial_port: SimulatedPlc(serial_port=serial_port),
)


def _check_seen_outside(outcome: Outcome, outage_s: float) -> None:
    # The attempts seen from the outside are the ones the link counted (but one, in
    # flight as the listener opened or closed).
    outside = outcome.outside
    assert outside is not None
    assert abs(outside.counted - len(outside.accepted)) <= 1
    assert len(outside.accepted) >= outage_s / 2 / GAP_BOUND_S - 1
    assert max(b - a for a, b in itertools.pairwise(outside.accepted)) < WORST_GAP_S


def _check(outcome: Outcome, outage_s: float) -> None:
    # Tried all along, about a second apart at the most, however long the outage ...
    gaps = sorted(outcome.gaps)
    assert len(outcome.tries) >= outage_s / GAP_BOUND_S
    assert outcome.gap_quantile(0.95) < GAP_BOUND_S, gaps[-5:]
    assert gaps[-1] < WORST_GAP_S, gaps[-5:]
    assert outcome.back - outcome.tries[-1] < WORST_GAP_S
    # ... so the first try after the device is back reads it, and sees the press.
    assert outcome.tries_after_back <= 1
    assert outcome.answered - outcome.back < WORST_GAP_S
    assert outcome.pressed - outcome.back < WORST_GAP_S + INTERVAL_S


@pytest.mark.parametrize(
    "outage_s",
    [
        10,
        pytest.param(60, marks=pytest.mark.timeout(180)),
        pytest.param(300, marks=[pytest.mark.long, pytest.mark.timeout(480)]),
    ],
)
@pytest.mark.asyncio
async def test_a_plc_back_from_an_outage_is_read_within_a_second(
    tmp_path: Path, outage_s: float
) -> None:
    outcomes = await measure_outage(outage_s, folder=tmp_path, plcs=PLCS)
    _check_seen_outside(outcomes["tcp"], outage_s)
    for name, outcome in outcomes.items():
        print(f"{name} after {outage_s} s: {outcome.figures()}")
        _check(outcome, outage_s)

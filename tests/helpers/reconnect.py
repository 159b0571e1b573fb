"""The bound on a gap between a Modbus link's tries during an outage, shared by the
outage test and the tries' own tests."""

from __future__ import annotations

from bench.reconnect import INTERVAL_S
from contract.backoff import RETRY_WITHIN_S

# What a loaded CI machine may add to a gap: the event loop running late, a thread's start.
SLACK_S = 0.3
GAP_BOUND_S = RETRY_WITHIN_S + INTERVAL_S + SLACK_S

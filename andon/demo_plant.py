"""What happens in the demo plant besides the product: a receiver, responders, lights, drift.

The receiver stands in for the phones: it takes the hub's ``json://`` notifications on
loopback and prints each one on a line. The responders use the API with the responder's
token, as the inbox does: they take some calls through acknowledge, arrive and resolve
and leave the others to escalate. The light watcher prints each tower light the hub's
commands set on a simulated PLC, and the drift feeds the press-fit force until the SPC
rules fire and the plant's engineer corrects it, while the press's part counters count the
parts it made, rejected and sent to rework (the quality figures on /reports).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

import httpx

from edge.config import EdgeConfig
from rules.registers import ValueType
from testbed.opcua_plc import SimulatedOpcUaPlc
from testbed.plc_sim import SimulatedPlc

log = logging.getLogger(__name__)

# The demo's reason for each call type, as a responder would pick it when resolving.
REASONS = {"maintenance": "jam-cleared", "material": "material-restocked", "quality": "adjusted"}
FORCE_REGISTER = 200
# The press's part counters (uint32, two registers each): made, rejected, sent to rework.
COUNTER_REGISTERS = {"made": 210, "bad": 212, "reworked": 214}
# The press's fault code (17: spindle overload) and its running flag; it faults every
# FAULT_EVERY parts for FAULT_PARTS parts' time, and pauses for a part's time now and then.
FAULT_REGISTER, RUNNING_REGISTER = 220, 221
FAULT_EVERY, FAULT_PARTS = 80, 16
LIGHT_NAMES = ("red", "amber", "blue", "green", "flashing", "buzzer")

DemoPlc = SimulatedPlc | SimulatedOpcUaPlc
"""A line's simulated PLC: Modbus TCP, or an OPC UA server."""


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            message: dict[str, Any] = json.loads(body)
        except ValueError:
            message = {"message": body.decode(errors="replace")}
        # The message starts with the title again: the message alone says it all.
        text = str(message.get("message") or message.get("title", "")).replace("\n", " | ")
        print(f"notification for {self.path.strip('/')}: {text}", flush=True)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """The notification line is the whole log of a request."""


class NotificationReceiver:
    """An HTTP server on loopback that prints every notification it is sent."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.host, self.port = "127.0.0.1", self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-receiver", daemon=True
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _coil(plc: DemoPlc, address: int | str) -> bool:
    """An output as a lamp sees it: a coil, or an OPC UA server's Boolean variable."""
    if isinstance(address, str):
        assert isinstance(plc, SimulatedOpcUaPlc)  # NodeIds are checked with the file
        return plc.coil(plc.bit_of(address))
    return plc.coil(address)


async def watch_lights(plcs: list[tuple[DemoPlc, EdgeConfig]]) -> None:
    """Print each station's tower light whenever the outputs on its PLC change."""
    shown: dict[str, str] = {}
    while True:
        for plc, edge in plcs:
            for light in edge.lights:
                lit = [
                    name
                    for name in LIGHT_NAMES
                    if name in light.outputs
                    and await asyncio.to_thread(_coil, plc, light.outputs[name])
                ]
                now = " ".join(lit) or "off"
                if shown.get(light.station, "off") != now:
                    print(f"light at {edge.line}/{light.station}: {now}", flush=True)
                shown[light.station] = now
        await asyncio.sleep(0.2)


async def respond(api_url: str, token: str, *, every_s: float = 3.0) -> None:
    """Take two calls in three from raised to resolved, a step a pass; those whose id is a
    multiple of three are left to escalate."""
    headers = {"Authorization": f"Bearer {token}"}
    steps = {"raised": "acknowledge", "acknowledged": "arrive", "arrived": "resolve"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=10) as api:
        while True:
            await asyncio.sleep(every_s)
            try:
                await _respond_once(api, steps)
            except httpx.HTTPError as error:
                # The hub restarting, or stopping at a Ctrl-C: try again at the next pass.
                log.warning("responders could not reach the hub: %s", error)


async def _respond_once(api: httpx.AsyncClient, steps: dict[str, str]) -> None:
    page = await api.get("/api/calls", params={"order": "desc", "limit": 100})
    page.raise_for_status()
    for call in page.json()["calls"]:
        step = steps.get(call["state"])
        if step is None or call["id"] % 3 == 0:
            continue
        body = {"reason_code": REASONS.get(call["call_type"], "other"), "note": "demo"}
        done = await api.post(
            f"/api/calls/{call['id']}/{step}", json=body if step == "resolve" else None
        )
        print(
            f"responder: {step} call {call['id']} at {call['station']}"
            f" ({call['call_type']}): HTTP {done.status_code}",
            flush=True,
        )


# The press-fit force's story, in parts made: in control, drifting, then corrected by the
# plant's engineer and in control for a long while, and again.
DRIFT_STEADY = 60  # parts before the first drift (the SPC limits are set from these)
DRIFT_PARTS = 60  # parts the force drifts before the engineer adjusts the press
DRIFT_RESTS = 600  # parts in control after an adjustment before the next drift


def force_drift(part: int) -> float:
    """How far the force has crept up (kN) at ``part``: 0.004 kN a part while drifting."""
    if part < DRIFT_STEADY:
        return 0.0
    into = (part - DRIFT_STEADY) % (DRIFT_PARTS + DRIFT_RESTS)
    return into * 0.004 if into < DRIFT_PARTS else 0.0


def _scenario_news(part: int) -> str | None:
    """What the plant's people say at ``part``: the drift starts, or is corrected."""
    if part < DRIFT_STEADY:
        return None
    into = (part - DRIFT_STEADY) % (DRIFT_PARTS + DRIFT_RESTS)
    if into == 0:
        return "scenario: the press-fit force starts to drift upwards"
    if into == DRIFT_PARTS:
        return "scenario: the process engineer adjusts the press; the force is back in control"
    return None


async def drift_force(plc: SimulatedPlc, *, every_s: float = 0.5) -> None:
    """Press-fit force in control, then creeping up a little with every part until the
    rules fire, then corrected (as a plant's engineer would), so the chart shows a
    process going out of control and coming back (``force_drift``). Each part is
    counted; a part is rejected or sent to rework now and then, more often once the
    force drifts."""
    noise = random.Random(7)  # the same demo every time
    counts = dict.fromkeys(COUNTER_REGISTERS, 0)
    part = 0
    await asyncio.to_thread(plc.set_register, RUNNING_REGISTER, 1)
    while True:
        if part and part % FAULT_EVERY == 0:
            await _press_fault(plc, FAULT_PARTS * every_s)
        elif noise.random() < 0.03:  # a micro-stop: the operator pauses the press
            await asyncio.to_thread(plc.set_register, RUNNING_REGISTER, 0)
            await asyncio.sleep(every_s * 2)
            await asyncio.to_thread(plc.set_register, RUNNING_REGISTER, 1)
        drift = force_drift(part)
        value = 2.2 + drift + noise.gauss(0, 0.03)
        await asyncio.to_thread(
            plc.set_value, "holding_register", FORCE_REGISTER, value, ValueType.FLOAT32
        )
        await asyncio.to_thread(_count_part, plc, counts, noise.random() - drift / 10)
        news = _scenario_news(part)
        if news:
            print(news, flush=True)
        part += 1
        await asyncio.sleep(every_s)


async def _press_fault(plc: SimulatedPlc, seconds: float) -> None:
    """The press stops with fault 17 (spindle overload) for ``seconds``, then runs again."""
    print("scenario: the press stops with fault 17 (spindle overload)", flush=True)
    await asyncio.to_thread(plc.set_register, FAULT_REGISTER, 17)
    await asyncio.sleep(seconds)
    await asyncio.to_thread(plc.set_register, FAULT_REGISTER, 0)


def print_machine(line: str, station: str, state: str, fault_code: int | None) -> None:
    """A machine's state change, as the demo prints it."""
    fault = f" (fault {fault_code})" if fault_code is not None else ""
    print(f"machine at {line}/{station}: {state}{fault}", flush=True)


def _count_part(plc: SimulatedPlc, counts: dict[str, int], luck: float) -> None:
    """One part made: rejected when ``luck`` is under 0.02, reworked under 0.06."""
    counts["made"] += 1
    if luck < 0.02:
        counts["bad"] += 1
    elif luck < 0.06:
        counts["reworked"] += 1
    for name, address in COUNTER_REGISTERS.items():
        plc.set_value("holding_register", address, counts[name], ValueType.UINT32)

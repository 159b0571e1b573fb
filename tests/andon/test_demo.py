"""The README's first command: the demo plant raises calls on two lines, notifies, lights the
stations' towers on their PLCs, responds to some calls, and any stop stops all of it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymodbus.client import ModbusTcpClient

from contract.netutil import free_port
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system

ROLES = ("viewer", "station", "responder", "engineer", "admin")


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _command(pid: int) -> str:
    path = Path(f"/proc/{pid}/comm")
    return path.read_text().strip() if path.exists() else ""


def _running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
    return "Z" not in state.split()[1]


class Demo:
    """``andon demo`` as a child process, its output collected as it comes."""

    def __init__(self, cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [*_ANDON, "demo", "--port", str(self.port), "--press-every", "0.5"],
            cwd=cwd,
            # Its own process group, so a test can send it a terminal's Ctrl-C.
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def wait(self, timeout: float) -> int:
        """The exit status, once the process ended and all its output was read."""
        status = self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return status

    def output(self) -> str:
        return "\n".join(self.lines)

    def tokens(self) -> dict[str, str]:
        """The token the demo printed for each role, once it printed all of them."""
        found = {}
        for line in self.lines:
            parts = line.split()
            if len(parts) == 2 and parts[0] in ROLES and parts[1].startswith("andon_"):
                found[parts[0]] = parts[1]
        return found if len(found) == len(ROLES) else {}

    def plc_ports(self) -> list[int]:
        """The simulated PLCs' ports, line 1's first, once the demo printed them."""
        for line in self.lines:
            if line.startswith("demo plant running:"):
                return [int(part.rsplit(":", 1)[1]) for part in line.split("PLCs ")[1].split(", ")]
        return []

    def printed(self, start: str) -> list[str]:
        return [line for line in self.lines if line.startswith(start)]

    def finish(self) -> None:
        """Kill what is left (the broker runs in its own session) and close the pipe."""
        if self.process.poll() is None:
            children = _children(self.process.pid)
            self.process.kill()
            self.process.wait()
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


_ANDON = [sys.executable, "-m", "andon.cli"]


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    started = Demo(tmp_path)
    try:
        yield started
    finally:
        started.finish()


def test_demo_plant_raises_calls_prints_a_token_per_role_and_ctrl_c_stops_everything(
    demo: Demo,
) -> None:
    tokens = wait_until(demo.tokens, timeout=30, what="the demo's tokens")
    base = f"http://127.0.0.1:{demo.port}"
    with httpx.Client(base_url=base, timeout=5) as api:
        viewer = {"Authorization": f"Bearer {tokens['viewer']}"}
        # The demo's responders leave the calls whose id is a multiple of three alone.
        calls = wait_until(
            lambda: [
                call
                for call in api.get("/api/calls", headers=viewer).json()["calls"]
                if call["id"] % 3 == 0 and call["state"] == "raised"
            ],
            timeout=30,
            what="a demo call left to escalate",
        )
        assert calls[0]["site"] == "demo-plant"
        assert api.get("/api/calls").status_code == 401
        responder = {"Authorization": f"Bearer {tokens['responder']}"}
        acked = api.post(f"/api/calls/{calls[0]['id']}/acknowledge", headers=responder)
        assert acked.json()["acknowledged_by"] == "demo-responder"
        refused = api.post(f"/api/calls/{calls[0]['id']}/acknowledge", headers=viewer)
        assert refused.status_code == 403
        admin = {"Authorization": f"Bearer {tokens['admin']}"}
        assert api.get("/api/audit", headers=admin).json()["entries"]
        assert api.get("/docs").status_code == 200
        assert api.get("/openapi.json").json()["info"]["title"] == "Andon hub"
    children = _children(demo.process.pid)
    assert children, "the demo runs Mosquitto (and the hub's workers) as child processes"
    demo.process.send_signal(signal.SIGINT)
    assert demo.wait(timeout=30) == 0, demo.output()
    assert "demo stopped" in demo.output()
    assert not any(_running(pid) for pid in children), "a child of the demo is left behind"
    _quiet(demo.output())
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/healthz", timeout=2)


def test_sigterm_stops_the_demo_within_seconds_after_its_broker_died(demo: Demo) -> None:
    wait_until(demo.tokens, timeout=30, what="the demo running")
    wait_until(lambda: "press at station" in demo.output(), timeout=30, what="a press")
    (broker_pid,) = [pid for pid in _children(demo.process.pid) if _command(pid) == "mosquitto"]
    os.kill(broker_pid, signal.SIGKILL)
    wait_until(
        lambda: "no connection to broker 127.0.0.1:" in demo.output(), what="the loss noticed"
    )
    demo.process.send_signal(signal.SIGTERM)
    # "Within a few seconds": a generous bound for a loaded machine, not a timing claim.
    assert demo.wait(timeout=15) == 0, demo.output()
    assert "demo stopped" in demo.output()


def _quiet(output: str) -> None:
    """What a person reads at INFO: our lines, no library's chatter, no error at a stop."""
    lines = output.splitlines()
    assert not [line for line in lines if " ERROR " in line or "Traceback" in line], output
    chatter = (" INFO alembic", " INFO apprise:", " INFO httpx:", " INFO pymodbus")
    assert not [line for line in lines if any(word in line for word in chatter)], output


def _amber_over_opcua(port: int, node_id: str) -> bool:
    """The amber lamp's variable on line 2's OPC UA server, read as a client would."""
    from asyncua.client.client import Client  # the OPC UA stack only where a test reads one

    async def read() -> bool:
        client = Client(f"opc.tcp://127.0.0.1:{port}/andon", timeout=2)
        client.session_timeout = 30_000  # what the server grants: no warning about it
        async with client:
            return bool(await client.get_node(node_id).read_value())

    try:
        return asyncio.run(read())
    except (OSError, TimeoutError):
        return False


def _amber(port: int, coil: int) -> bool:
    """The amber lamp's coil, read over Modbus as a plant integrator's tool would."""
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=2)
    try:
        if not client.connect():  # type: ignore[no-untyped-call]  # pymodbus: untyped
            return False
        reply = client.read_coils(coil, count=1, device_id=1)
        return not reply.isError() and bool(reply.bits[0])
    finally:
        client.close()  # type: ignore[no-untyped-call]  # pymodbus: untyped


def test_demo_calls_on_both_lines_notify_the_receiver_light_the_plc_and_are_responded_to(
    demo: Demo,
) -> None:
    tokens = wait_until(demo.tokens, timeout=30, what="the demo's tokens")
    line1, line2 = wait_until(demo.plc_ports, what="the PLCs' ports")
    for page in ("board", "inbox", "charts", "reports"):
        assert demo.printed(f"{page}:")[0].endswith(f"127.0.0.1:{demo.port}/{page}")
    # st10's amber lamp is coil 101 on line 1's PLC, st40's the variable Bit.101 on line
    # 2's OPC UA server: lit by the hub's light command for a call nobody acknowledged yet.
    assert demo.printed(f"line2's PLC serves OPC UA at opc.tcp://127.0.0.1:{line2}/andon")
    wait_until(lambda: _amber(line1, 101), timeout=30, what="st10's amber lamp on its PLC")
    wait_until(
        lambda: _amber_over_opcua(line2, "ns=2;s=Bit.101"), timeout=30,
        what="st40's amber lamp on its OPC UA server",
    )  # fmt: skip
    assert demo.printed("light at line1/st10: amber")
    wait_until(lambda: demo.printed("light at line2/st40: amber"), what="st40's light printed")
    told = wait_until(lambda: demo.printed("notification for "), timeout=30, what="a notice")
    assert "call at" in told[0], told[0]
    assert "/ack/" in told[0], told[0]
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}

    def resolved() -> list[dict[str, object]]:
        calls = httpx.get(
            f"http://127.0.0.1:{demo.port}/api/calls",
            params={"state": "resolved"},
            headers=viewer,
            timeout=5,
        ).json()["calls"]
        return [call for call in calls if call["acknowledged_by"] == "demo-responder"]

    done = wait_until(resolved, timeout=60, what="a call the responders resolved")
    assert done[0]["reason_code"] in {"jam-cleared", "material-restocked", "adjusted", "other"}
    assert done[0]["note"] == "demo"
    lines = {
        c["line"]
        for c in httpx.get(
            f"http://127.0.0.1:{demo.port}/api/calls", headers=viewer, timeout=5
        ).json()["calls"]
    }
    assert lines == {"line1", "line2"}

    def calls_at(station: str) -> list[dict[str, object]]:
        found: list[dict[str, object]] = httpx.get(
            f"http://127.0.0.1:{demo.port}/api/calls",
            params={"station": station},
            headers=viewer,
            timeout=5,
        ).json()["calls"]
        return found

    # st40's buttons are variables of line 2's OPC UA server: a press there is a call.
    pressed = wait_until(
        lambda: [c for c in calls_at("st40") if c["call_type"] in {"maintenance", "material"}],
        timeout=60,
        what="a call from a button on line 2's OPC UA server",
    )
    assert pressed[0]["line"] == "line2"
    # st50's help button is only on the serial box, on its pty pair.
    wait_until(
        lambda: [c for c in calls_at("st50") if c["call_type"] == "help"],
        timeout=60,
        what="a call from the serial button box",
    )
    # The scanner at st40 feeds serial numbers: a later call there carries the part.
    scanned = wait_until(
        lambda: [c for c in calls_at("st40") if str(c["part_serial"] or "").startswith("SN")],
        timeout=60,
        what="a call at st40 with the scanned serial",
    )
    assert demo.printed(f"scanner at st40: {scanned[0]['part_serial']}")
    # The press's part counters reach the reports: st10 has parts counted, and its rates
    # are those of its counts.
    quality = wait_until(lambda: _quality_at(demo.port, viewer, "st10"), what="parts at st10")
    assert quality is not None
    assert quality["defect_rate"] == quality["defective"] / quality["inspected"]
    good = quality["inspected"] - quality["defective"] - quality["reworked"]
    assert quality["first_pass_yield"] == good / quality["inspected"]
    os.killpg(demo.process.pid, signal.SIGINT)
    assert demo.wait(timeout=30) == 0, demo.output()


@pytest.mark.timeout(400)  # the scenario's own pace: a minute of parts before the correction
def test_the_press_fit_force_drifts_out_of_control_and_the_correction_stops_the_anomalies(
    demo: Demo,
) -> None:
    tokens = wait_until(demo.tokens, timeout=30, what="the demo's tokens")
    viewer = {"Authorization": f"Bearer {tokens['viewer']}"}

    def anomalies() -> int:
        answer = httpx.get(
            f"http://127.0.0.1:{demo.port}/api/anomalies",
            params={"characteristic": "press-fit-force", "limit": 1000},
            headers=viewer,
            timeout=5,
        ).json()
        return len(answer["anomalies"])

    wait_until(lambda: demo.printed("scenario: the press-fit force starts to drift"), timeout=90)
    corrected = "scenario: the process engineer adjusts the press"
    wait_until(lambda: demo.printed(corrected), timeout=120, what="the press adjusted")
    found = wait_until(anomalies, timeout=30, what="anomalies of the drift at the hub")
    assert found > 0
    # The press is a machine too: it runs, stops with fault 17 now and then (printed), and
    # its downtime and OEE reach the reports.
    wait_until(lambda: demo.printed("machine at line1/st10: down (fault 17)"), timeout=120)
    assert demo.printed("machine at line1/st10: running")

    def downtime() -> list[dict[str, Any]]:
        periods: list[dict[str, Any]] = httpx.get(
            f"http://127.0.0.1:{demo.port}/api/downtime", params={"station": "st10"},
            headers=viewer, timeout=5,
        ).json()["periods"]  # fmt: skip
        return [p for p in periods if p["fault_code"] == 17 and p["end"] is not None]

    fault = wait_until(downtime, timeout=60, what="the press's fault as downtime")
    assert fault[0]["reason"] == "spindle-overload"
    oee = httpx.get(
        f"http://127.0.0.1:{demo.port}/api/reports/oee", headers=viewer, timeout=5
    ).json()["rows"]
    (press,) = [row for row in oee if row["station"] == "st10"]
    assert press["total"] > 0
    assert press["down_s"] >= fault[0]["seconds"]

    # After the adjustment the count stops growing: two counts a few seconds apart
    # (dozens of parts at two a second) agree. Only the count is compared, never a time.
    def settled() -> bool:
        before = anomalies()
        time.sleep(8)
        return anomalies() == before

    wait_until(settled, timeout=120, what="no new anomaly after the correction")
    assert not demo.printed("scenario: the press-fit force starts to drift")[1:]
    os.killpg(demo.process.pid, signal.SIGINT)
    assert demo.wait(timeout=30) == 0, demo.output()


def _quality_at(port: int, headers: dict[str, str], station: str) -> dict[str, Any] | None:
    """The station's quality figures over the reports' period, once it inspected parts."""
    answer = httpx.get(
        f"http://127.0.0.1:{port}/api/reports/quality", headers=headers, timeout=5
    ).json()
    for item in answer["stations"]:
        if item["station"] == station and item["figures"]["inspected"]:
            figures: dict[str, Any] = item["figures"]
            return figures
    return None


def test_ctrl_c_in_a_terminal_stops_the_demo_without_a_traceback_from_the_ingest_worker(
    demo: Demo,
) -> None:
    """A terminal's Ctrl-C reaches the whole process group, the hub's ingest worker too:
    it used to die mid-batch with a KeyboardInterrupt instead of being stopped by the hub."""
    wait_until(demo.tokens, timeout=30, what="the demo running")
    wait_until(lambda: demo.printed("notification for "), timeout=30, what="calls ingested")
    children = _children(demo.process.pid)
    os.killpg(demo.process.pid, signal.SIGINT)
    assert demo.wait(timeout=30) == 0, demo.output()
    assert "Traceback" not in demo.output(), demo.output()
    assert "demo stopped" in demo.output()
    assert not any(_running(pid) for pid in children)

"""Tower lights: the hub's light command written to a real pymodbus PLC and read back, a
mismatch reported, and the edge's own light while the hub is away."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract.wire import FaultPayload, LightCommand, OutputPayload, utc_now
from drivers import ModbusTcpConfig, open_devices
from edge.config import EdgeConfig, LightConfig, OutputMap
from edge.station_lights import StationLights
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.edge_plant import OUTPUTS, EdgePlant, run_plant
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import wait_until

COILS = {name: 20 + i for i, name in enumerate(OUTPUTS)}


def _edge(plc: SimulatedPlc, light: LightConfig) -> EdgeConfig:
    device = ModbusTcpConfig(kind="modbus_tcp", id="plc1", host=plc.host, port=plc.port)
    return EdgeConfig(edge_id="e", site="s", area="a", line="l", devices=[device], lights=[light])


def _command(colour: str, *, flashing: bool = False, buzzer: bool = False) -> LightCommand:
    state = {"green": "idle", "amber": "raised", "blue": "acknowledged", "red": "raised"}[colour]
    return LightCommand(
        colour=colour, flashing=flashing, buzzer=buzzer, state=state, line_stop=True, ts=utc_now()
    )


async def _apply(
    config: EdgeConfig, command: LightCommand
) -> tuple[StationLights, list[FaultPayload | OutputPayload]]:
    faults: list[FaultPayload | OutputPayload] = []
    lights = StationLights(config, lambda station, fault: faults.append(fault))
    async with open_devices(config.devices) as drivers, lights.running(drivers):
        lights.hub_command("st10", command)
        await asyncio.to_thread(wait_until, lambda: lights.written, what="the light written")
    return lights, faults


@pytest.mark.asyncio
async def test_a_light_command_is_written_to_the_plc_coils_and_reads_back_right(
    plc: SimulatedPlc,
) -> None:
    config = _edge(plc, LightConfig(station="st10", device="plc1", outputs=COILS))
    lights, faults = await _apply(config, _command("amber", flashing=True, buzzer=True))
    coils = {name: plc.coil(address) for name, address in COILS.items()}
    assert coils == {"red": False, "amber": True, "blue": False, "green": False,
                     "flashing": True, "buzzer": True, "line_stop": True}  # fmt: skip
    # The line stop read back as commanded: the hub is told, for the call's timeline.
    assert faults == [OutputPayload(output="line_stop", value=1, device="plc1")]
    assert lights.mismatches == 0


@pytest.mark.asyncio
async def test_a_light_in_register_bits_keeps_the_other_bits_of_the_register(
    plc: SimulatedPlc,
) -> None:
    plc.set_register(40, 0b1000_0000_0000_0000)  # bit 15 belongs to someone else
    bits = {"red": 0, "amber": 1, "blue": 2, "green": 3, "buzzer": 4}
    light = LightConfig(station="st10", device="plc1", table="holding_register", address=40,
                        outputs=bits)  # fmt: skip
    _, faults = await _apply(_edge(plc, light), _command("blue"))
    assert plc.register(40) == 0b1000_0000_0000_0100
    assert faults == []


@pytest.mark.asyncio
async def test_a_lamp_whose_feedback_disagrees_is_reported_once_as_a_mismatch(
    plc: SimulatedPlc,
) -> None:
    # The lamps report on discrete inputs 50..; the green one is stuck on, amber dead.
    feedback = OutputMap(table="discrete_input", outputs={"red": 50, "amber": 51, "green": 53})
    plc.set_bits("discrete_input", 53, [True])
    light = LightConfig(station="st10", device="plc1", feedback=feedback,
                        outputs={"red": 20, "amber": 21, "green": 23})  # fmt: skip
    lights, faults = await _apply(_edge(plc, light), _command("amber"))
    assert plc.coil(21)  # written as commanded
    assert not plc.coil(23)
    (fault,) = faults
    assert isinstance(fault, FaultPayload)
    assert fault.fault == "light_mismatch"
    assert fault.expected == {"red": 0, "amber": 1, "green": 0}
    assert fault.read_back == {"red": 0, "amber": 0, "green": 1}
    assert fault.detail == "outputs read back wrong: amber, green"
    assert lights.mismatches == 1


# -- the whole plant ------------------------------------------------------------------------


@pytest.fixture
def plant(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> Iterator[EdgePlant]:
    yield from run_plant(tmp_path, broker, plc, topic_prefix, f"sqlite:///{tmp_path / 'hub.db'}")


@pytest.mark.system
def test_a_call_open_at_its_line_stop_deadline_stops_the_line_and_its_timeline_says_so(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, topic_prefix: str
) -> None:
    with Receiver() as receiver:
        level = {"after_s": 0, "notify": [f"json://{receiver.url}/team"]}
        policy = {
            "id": "stop-late",
            "ack_timeout_s": 300,
            "line_stop_after_s": 1,
            "levels": [level],
        }
        plant_of = contextlib.contextmanager(run_plant)
        database = f"sqlite:///{tmp_path / 'hub.db'}"
        with plant_of(
            tmp_path, broker, plc, topic_prefix, database, escalation={"policies": [policy]}
        ) as plant:
            plant.press(0)
            wait_until(lambda: plant.light("st0")["line_stop"], what="the line-stop coil set")
            (call,) = plant.calls()

            def timeline() -> list[str]:
                detail = plant.api.get(f"/api/calls/{call['id']}").json()
                return [entry["action"] for entry in detail["timeline"]]

            wait_until(lambda: "line_stop_set" in timeline(), what="the outcome on the timeline")
            assert timeline().index("line_stop") < timeline().index("line_stop_set")
            body = {"reason_code": "adjusted"}
            plant.api.post(f"/api/calls/{call['id']}/resolve", json=body).raise_for_status()
            wait_until(lambda: "line_stop_released" in timeline(), what="the line freed")
            assert not plant.light("st0")["line_stop"]


@pytest.mark.system
def test_the_hub_lights_every_station_at_start_and_the_light_follows_the_call(
    plant: EdgePlant,
) -> None:
    wait_until(lambda: plant.lit("st0", "green") and plant.lit("st1", "green"), what="green")
    plant.press(0)
    wait_until(lambda: plant.lit("st0", "amber", flashing=True, buzzer=True), what="amber")
    (call,) = plant.calls()
    plant.api.post(f"/api/calls/{call['id']}/acknowledge").raise_for_status()
    wait_until(lambda: plant.lit("st0", "blue", flashing=False, buzzer=False), what="blue")
    assert plant.lit("st1", "green")


@pytest.mark.system
def test_with_the_hub_stopped_a_new_call_lights_its_station_and_the_hub_takes_over_again(
    plant: EdgePlant,
) -> None:
    wait_until(lambda: plant.lit("st1", "green"), what="green from the hub")
    assert plant.hub.stop(signal.SIGTERM) == 0
    wait_until(lambda: "hub unreachable" in plant.edge.log(), what="the edge sees the hub gone")
    plant.press(1)
    wait_until(lambda: plant.lit("st1", "amber", flashing=True, buzzer=True), what="local amber")
    assert "lit by the edge" in plant.edge.log()
    plant.hub.start()
    (call,) = wait_until(plant.calls, timeout=30, what="the call, once the hub is back")
    assert call["station"] == "st1"
    plant.api.post(f"/api/calls/{call['id']}/acknowledge").raise_for_status()
    wait_until(lambda: plant.lit("st1", "blue", buzzer=False), what="the hub's blue")
    plant.api.post(f"/api/calls/{call['id']}/resolve", json={"reason_code": "adjusted"})
    wait_until(lambda: plant.lit("st1", "green"), what="green again")


@pytest.mark.system
def test_a_plc_that_restarts_with_its_outputs_off_gets_its_lights_written_again(
    plant: EdgePlant,
) -> None:
    wait_until(lambda: plant.lit("st0", "green") and plant.lit("st1", "green"), what="green")
    plant.plc.stop()
    wait_until(lambda: _plc_status(plant) == "offline", what="the PLC seen gone")
    plant.plc.start()  # a PLC back from a power cut: every output off
    wait_until(lambda: plant.lit("st0", "green") and plant.lit("st1", "green"), what="green again")
    # The edge writes the lights the moment the PLC answers; its word to the hub follows.
    wait_until(lambda: _plc_status(plant) == "online", what="the hub told the PLC is back")


def _plc_status(plant: EdgePlant) -> str | None:
    """The PLC's status as the hub last heard it from the edge."""
    devices = plant.api.get("/api/devices").json()["devices"]
    return next((d["status"] for d in devices if d["device"] == "plc1"), None)

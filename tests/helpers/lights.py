"""A hub's light command driven through the edge's station lights to a real device."""

from __future__ import annotations

import asyncio

from contract.wire import LightCommand, utc_now
from drivers import AnyDeviceConfig
from edge.config import EdgeConfig, LightConfig
from edge.station_lights import OutputDriver, StationLights
from tests.helpers.heard import WAIT_S


async def light_amber_with_buzzer(
    device: AnyDeviceConfig, outputs: dict[str, str], driver: OutputDriver
) -> tuple[StationLights, list[object]]:
    """Station st10's lights on ``device`` (its ``outputs``) take the hub's amber command
    with the buzzer on, written through the open ``driver``; the lights once written, and
    the faults they reported."""
    light = LightConfig(station="st10", device=device.id, outputs=outputs)
    config = EdgeConfig(edge_id="e", site="s", area="a", line="l", devices=[device], lights=[light])
    faults: list[object] = []
    lights = StationLights(config, lambda station, fault: faults.append(fault))
    command = LightCommand(
        colour="amber", flashing=False, buzzer=True, state="raised", ts=utc_now()
    )
    async with lights.running({device.id: driver}):
        lights.hub_command("st10", command)
        async with asyncio.timeout(WAIT_S):
            while not lights.written:  # noqa: ASYNC110  # a counter, no event
                await asyncio.sleep(0.02)
    return lights, faults

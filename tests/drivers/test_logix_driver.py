"""The Logix driver against cpppo's EtherNet/IP simulator (a process of its own, on
loopback): every type read together, writes read back from the controller, refusals,
and the controller vanishing and returning. One simulator serves the module."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from drivers import DeviceMisconfigured, DeviceUnavailable, LogixConfig
from drivers.logix import LogixDriver
from testbed.logix_plc import SimulatedLogixPlc

WAIT_S = 20.0
TAGS = {
    "St10_Maint": "BOOL",
    "Count": "SINT",
    "Speed": "INT",
    "Flags": "DINT",
    "Temp": "REAL",
    "Serial": "STRING",
    "Line1.Total": "DINT",
    "Station": "DINT[8]",
    "Lamp": "BOOL",
    "Horn": "DINT",
}


@pytest.fixture(scope="module")
def logix() -> Iterator[SimulatedLogixPlc]:
    with SimulatedLogixPlc(TAGS) as server:
        yield server


def _config(logix: SimulatedLogixPlc) -> LogixConfig:
    return LogixConfig.model_validate(logix.device(timeout_s=2))


@pytest.mark.asyncio
async def test_every_type_is_read_together_as_the_tag_holds_it(logix: SimulatedLogixPlc) -> None:
    logix.set("St10_Maint", True)
    logix.set("Count", -5)
    logix.set("Speed", -300)
    logix.set("Flags", -(2**31) + 0b10_0000)  # bits 5 and 31 set
    logix.set("Temp", 74.5)
    logix.set("Line1.Total", 123456)
    logix.set("Station[3]", 7)
    logix.set_text("Serial", "SN42")
    addresses = [
        "St10_Maint", "Count", "Speed", "Flags", "Temp", "Line1.Total", "Station[3]",
        "Station[4]", "Flags.5", "Flags.4", "Flags.31",
    ]  # fmt: skip
    async with LogixDriver(_config(logix)) as driver:
        values = await driver.read_tags(addresses)
        # The simulator's STRING is CIP's, which pylogix decodes in a read of its own.
        serial = await driver.read_tags(["Serial"])
    assert values == {
        "St10_Maint": True, "Count": -5, "Speed": -300, "Flags": -(2**31) + 32, "Temp": 74.5,
        "Line1.Total": 123456, "Station[3]": 7, "Station[4]": 0, "Flags.5": True,
        "Flags.4": False, "Flags.31": True,
    }  # fmt: skip
    assert [type(values[a]) for a in ("St10_Maint", "Count", "Temp", "Flags.5")] == [
        bool, int, float, bool,
    ]  # fmt: skip
    assert serial == {"Serial": "SN42"}


@pytest.mark.asyncio
async def test_writes_reach_the_controller_in_the_tags_own_types(
    logix: SimulatedLogixPlc,
) -> None:
    logix.set("Lamp", False)
    async with LogixDriver(_config(logix)) as driver:
        await driver.write_tag("Lamp", True)
        await driver.write_tag("Horn", 3)
        await driver.write_tag("Temp", 12.25)
        assert await driver.read_tags(["Lamp", "Horn", "Temp"]) == {
            "Lamp": True, "Horn": 3, "Temp": 12.25,
        }  # fmt: skip
    assert (logix.get("Lamp"), logix.get("Horn"), logix.get("Temp")) == (True, 3, 12.25)


@pytest.mark.asyncio
async def test_a_lights_outputs_are_written_together_and_refusals_named(
    logix: SimulatedLogixPlc,
) -> None:
    async with LogixDriver(_config(logix)) as driver:
        await driver.write_tags({"Lamp": 0, "Horn": 1, "Count": 1})
        assert (logix.get("Lamp"), logix.get("Horn"), logix.get("Count")) == (False, 1, 1)
        with pytest.raises(DeviceMisconfigured, match="writing Nope") as refused:
            await driver.write_tags({"Lamp": 1, "Nope": 1})
    assert "Lamp" not in str(refused.value)
    assert logix.get("Lamp") is True


@pytest.mark.asyncio
async def test_an_unknown_tag_or_a_type_not_configured_is_refused(
    logix: SimulatedLogixPlc,
) -> None:
    logix.set("Speed", 12)
    types = {"Speed": ("float32", None), "Count": ("int16", None)}
    async with LogixDriver(_config(logix), types) as driver:
        with pytest.raises(DeviceMisconfigured, match="Nope"):
            await driver.read_tags(["Count", "Nope"])
        with pytest.raises(DeviceMisconfigured, match="Speed holds int 12, not the float32"):
            await driver.read_tags(["Count", "Speed"])
        with pytest.raises(DeviceMisconfigured, match="writing Nope"):
            await driver.write_tag("Nope", 1)
        assert await driver.read_tags(["Count"]) == {"Count": logix.get("Count")}
        assert driver.up


@pytest.mark.asyncio
async def test_a_controller_that_vanishes_is_unavailable_and_read_again_on_return(
    logix: SimulatedLogixPlc,
) -> None:
    async with LogixDriver(_config(logix)) as driver:
        assert await driver.read_tags(["Horn"]) == {"Horn": logix.get("Horn")}
        logix.stop()
        with pytest.raises(DeviceUnavailable):
            await driver.read_tags(["Horn"])
        assert not driver.up
        # Not tried again at once: the backoff's first gap.
        with pytest.raises(DeviceUnavailable, match="tried again shortly"):
            await driver.read_tags(["Horn"])
        logix.start()  # same port, its tags back at zero
        logix.set("Horn", 9)
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    values = await driver.read_tags(["Horn", "Lamp"])
                    break
                except DeviceUnavailable:
                    await asyncio.sleep(0.1)
    assert values == {"Horn": 9, "Lamp": False}
    assert driver.up
    assert driver.connects == 2

"""The S7 driver against python-snap7's own server on loopback: every type decoded as
STEP 7 stores it, neighbouring tags grouped into area reads, writes read back from the
server's memory (a tower light's bits in one read and one write), refusals, and the PLC
vanishing and returning."""

from __future__ import annotations

import asyncio
import struct

import pytest

from drivers import DeviceMisconfigured, DeviceUnavailable, S7Config
from drivers.s7 import S7Driver, S7Tag, plan_reads
from drivers.s7_config import parse_address
from testbed.s7_plc import SimulatedS7Plc

WAIT_S = 10.0


def _config(s7: SimulatedS7Plc) -> S7Config:
    return S7Config.model_validate(s7.device(timeout_s=2))


TYPES: dict[str, tuple[str, int | None]] = {
    "DB10.DBW4": ("int16", None),
    "DB10.DBD10": ("int32", None),
    "DB10.DBD14": ("float32", None),
    "DB10.DBB20": ("string", 10),
    "MW20": ("int16", None),
}


@pytest.mark.asyncio
async def test_every_type_is_decoded_as_step7_stores_it(s7: SimulatedS7Plc) -> None:
    s7.db10[0] = 0b0000_1001
    struct.pack_into(">HhIif", s7.db10, 2, 65000, -1234, 4_000_000_000, -123456, 74.5)
    s7.db10[20:26] = bytes([10, 4]) + b"SN42"  # STRING[10]: max, actual, characters
    s7.flags[10] = 0b10
    struct.pack_into(">hI", s7.flags, 20, -7, 123456789)
    s7.inputs[0] = 1
    struct.pack_into(">H", s7.inputs, 4, 4321)
    s7.outputs[0] = 0b10
    addresses = [
        "DB10.DBX0.0", "DB10.DBX0.1", "DB10.DBX0.3", "DB10.DBW2", "DB10.DBW4", "DB10.DBD6",
        "DB10.DBD10", "DB10.DBD14", "DB10.DBB20", "M10.1", "M10.0", "MW20", "MD22", "I0.0",
        "IW4", "Q0.1", "Q0.0",
    ]  # fmt: skip
    async with S7Driver(_config(s7), TYPES) as driver:
        values = await driver.read_tags(addresses)
    assert values == {
        "DB10.DBX0.0": True, "DB10.DBX0.1": False, "DB10.DBX0.3": True,
        "DB10.DBW2": 65000, "DB10.DBW4": -1234, "DB10.DBD6": 4_000_000_000,
        "DB10.DBD10": -123456, "DB10.DBD14": 74.5, "DB10.DBB20": "SN42",
        "M10.1": True, "M10.0": False, "MW20": -7, "MD22": 123456789,
        "I0.0": True, "IW4": 4321, "Q0.1": True, "Q0.0": False,
    }  # fmt: skip
    assert isinstance(values["DB10.DBX0.0"], bool)


@pytest.mark.asyncio
async def test_neighbouring_tags_of_an_area_are_one_read(s7: SimulatedS7Plc) -> None:
    addresses = ["DB10.DBX0.0", "DB10.DBW2", "DB10.DBD30", "DB10.DBW200", "M1.0", "MW2", "I0.0"]
    async with S7Driver(_config(s7)) as driver:
        await driver.read_tags(addresses)
        # DB10 bytes 0-33 (within MAX_GAP_BYTES of each other), DB10 200, M 1-3, I 0.
        assert driver.requests == 4
        await driver.read_tags(addresses)
        assert driver.requests == 8


def test_a_group_stays_within_the_pdu() -> None:
    tags = []
    for byte in range(0, 400, 4):
        address = f"DB10.DBD{byte}"
        tags.append(S7Tag(address, parse_address(address), "uint32", None, 4))
    reads = plan_reads(tags, max_bytes=222)
    assert [(r.start, r.size) for r in reads] == [(0, 220), (220, 180)]
    assert sum(len(r.tags) for r in reads) == 100


@pytest.mark.asyncio
async def test_writes_land_in_the_plcs_memory_and_leave_the_other_bits(s7: SimulatedS7Plc) -> None:
    s7.outputs[0] = 0b1000_0001
    types = {**TYPES, "DB5.DBD8": ("float32", None)}
    async with S7Driver(_config(s7), types) as driver:
        await driver.write_tag("Q0.1", True)
        await driver.write_tag("Q0.0", False)
        await driver.write_tag("DB10.DBW4", -2)
        await driver.write_tag("DB5.DBW2", 1)
        await driver.write_tag("DB5.DBD8", 2.5)
        await driver.write_tag("DB10.DBB20", "AB-7")
        read_back = await driver.read_tags(["Q0.1", "Q0.0", "DB10.DBB20"])
    assert s7.outputs[0] == 0b1000_0010
    assert struct.unpack_from(">h", s7.db10, 4) == (-2,)
    assert struct.unpack_from(">H", s7.db5, 2) == (1,)
    assert struct.unpack_from(">f", s7.db5, 8) == (2.5,)
    assert s7.db10[20:26] == bytes([10, 4]) + b"AB-7"
    assert read_back == {"Q0.1": True, "Q0.0": False, "DB10.DBB20": "AB-7"}


@pytest.mark.asyncio
async def test_a_tower_lights_bits_are_one_read_and_one_write(s7: SimulatedS7Plc) -> None:
    s7.outputs[4] = 0b1100_0100  # bits 2, 6 and 7 belong to others: they stay
    types = {**TYPES, "DB5.DBD8": ("float32", None)}
    lights = {"Q4.0": True, "Q4.1": True, "Q4.2": False, "Q4.3": True}  # red, amber, ...
    numbers = {"DB10.DBW4": -2, "DB10.DBW6": 7}  # side by side: one write, nothing read
    async with S7Driver(_config(s7), types) as driver:
        await driver.write_tags({**lights, **numbers, "DB5.DBD8": 2.5})
        assert driver.requests == 2 + 1 + 1
        assert await driver.read_tags(list(lights)) == lights
    assert s7.outputs[4] == 0b1100_1011
    assert struct.unpack_from(">hh", s7.db10, 4) == (-2, 7)
    assert struct.unpack_from(">f", s7.db5, 8) == (2.5,)


@pytest.mark.asyncio
async def test_a_data_block_the_plc_lacks_is_refused_not_unavailable(s7: SimulatedS7Plc) -> None:
    async with S7Driver(_config(s7)) as driver:
        with pytest.raises(DeviceMisconfigured, match="plc7"):
            await driver.read_tags(["DB99.DBW0"])
        assert driver.up
        assert await driver.read_tags(["DB10.DBW0"]) == {"DB10.DBW0": 0}


@pytest.mark.asyncio
async def test_a_string_whose_length_bytes_do_not_fit_is_refused(s7: SimulatedS7Plc) -> None:
    s7.db10[20:22] = bytes([10, 40])  # 40 characters in a STRING[10]
    async with S7Driver(_config(s7), TYPES) as driver:
        with pytest.raises(DeviceMisconfigured, match=r"DB10\.DBB20"):
            await driver.read_tags(["DB10.DBB20"])


@pytest.mark.asyncio
async def test_the_plc_vanishing_and_returning(s7: SimulatedS7Plc) -> None:
    s7.db10[0] = 1
    async with S7Driver(_config(s7)) as driver:
        assert await driver.read_tags(["DB10.DBX0.0"]) == {"DB10.DBX0.0": True}
        s7.stop()
        with pytest.raises(DeviceUnavailable):
            await driver.read_tags(["DB10.DBX0.0"])
        assert not driver.up
        with pytest.raises(DeviceUnavailable):
            await driver.read_tags(["DB10.DBX0.0"])
        s7.start()
        async with asyncio.timeout(WAIT_S):
            while True:
                try:
                    values = await driver.read_tags(["DB10.DBX0.0"])
                    break
                except DeviceUnavailable:
                    await asyncio.sleep(0.05)
        assert values == {"DB10.DBX0.0": True}
        assert driver.up
        assert driver.connects == 2

"""The OPC UA driver against a real asyncua server on loopback (testbed/opcua_plc.py):
every type, changes as a subscription delivers them, writes read back, refusals, and a
server that vanishes and returns."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from contract.backoff import Backoff
from drivers import DeviceMisconfigured, DeviceUnavailable, OpcUaConfig, Value
from drivers.opcua import OpcUaDriver
from drivers.tags import Monitored
from edge.config import load_edge_config
from testbed.opcua_plc import STATION_VARIABLES, SimulatedOpcUaPlc, make_certificate
from tests.helpers.waiting import until

# A test fails after this long without what it waits for; nothing asserts durations.
WAIT_S = 10.0

EXPECTED_TYPES = {
    "Types.Bool": "bool", "Types.SByte": "sbyte", "Types.Byte": "byte",
    "Types.Int16": "int16", "Types.UInt16": "uint16", "Types.Int32": "int32",
    "Types.UInt32": "uint32", "Types.Int64": "int64", "Types.UInt64": "uint64",
    "Types.Float": "float32", "Types.Double": "float64", "Types.String": "string",
}  # fmt: skip


class Recording:
    """A ChangeSink keeping everything in order."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, Value | None]] = []
        self.states: list[bool] = []
        self.refusals: list[tuple[str, str]] = []

    def changed(self, address: str, value: Value | None) -> None:
        self.changes.append((address, value))

    def state(self, *, up: bool, reason: str) -> None:
        del reason
        if not self.states or self.states[-1] != up:
            self.states.append(up)

    def refused(self, address: str, reason: str) -> None:
        self.refusals.append((address, reason))

    def of(self, address: str) -> list[Value | None]:
        return [value for where, value in self.changes if where == address]


def station_plc(**settings: Any) -> SimulatedOpcUaPlc:
    """A PLC of the station's typed variables only (no bits, no words)."""
    return SimulatedOpcUaPlc(bits=0, words=0, variables=STATION_VARIABLES, **settings)


# One server for the tests that leave it running (each on variables of its own): an
# asyncua server takes a second or two to build its address space. It serves from a
# thread of its own; a test's loop starts and stops one through ``asyncio.to_thread`` so
# that the driver under test goes on running meanwhile.
@pytest.fixture(scope="module")
def server() -> Iterator[SimulatedOpcUaPlc]:
    with station_plc() as plc:
        yield plc


def config_of(plc: SimulatedOpcUaPlc, **settings: object) -> OpcUaConfig:
    return OpcUaConfig.model_validate(
        {"kind": "opcua", "id": "ua1", "endpoint": plc.endpoint, "timeout_s": 2, **settings}
    )


@contextlib.asynccontextmanager
async def subscribed(
    driver: OpcUaDriver, items: list[Monitored], sink: Recording
) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(driver.run(items, sink))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.mark.asyncio(loop_scope="module")
async def test_every_type_is_read_as_its_value_and_named_by_its_type(
    server: SimulatedOpcUaPlc,
) -> None:
    addresses = [server.node_id(name) for name in EXPECTED_TYPES]
    async with OpcUaDriver(config_of(server)) as driver:
        await driver.connect()
        values = await driver.read_tags(addresses)
        types = await driver.value_types(addresses)
    for name in EXPECTED_TYPES:
        expected = STATION_VARIABLES[name][0]
        got = values[server.node_id(name)]
        if name == "Types.Float":
            assert got == pytest.approx(expected)
        else:
            assert got == expected
            assert type(got) is type(expected)
    assert types == {server.node_id(name): kind for name, kind in EXPECTED_TYPES.items()}


@pytest.mark.asyncio(loop_scope="module")
async def test_an_unknown_node_is_refused_not_returned_as_nothing(
    server: SimulatedOpcUaPlc,
) -> None:
    async with OpcUaDriver(config_of(server)) as driver:
        await driver.connect()
        with pytest.raises(DeviceMisconfigured, match="BadNodeIdUnknown"):
            await driver.read_tags(["ns=2;s=No.Such.Node"])


@pytest.mark.asyncio(loop_scope="module")
async def test_a_light_written_reads_back_in_the_variables_own_type(
    server: SimulatedOpcUaPlc,
) -> None:
    async with OpcUaDriver(config_of(server)) as driver:
        await driver.connect()
        await driver.write_tag(server.node_id("St10.Red"), 1)
        await driver.write_tag(server.node_id("St10.Green"), 1)
        red, green = server.node_id("St10.Red"), server.node_id("St10.Green")
        assert await driver.read_tags([red, green]) == {red: True, green: 1}
        with pytest.raises(DeviceMisconfigured, match="Boolean"):
            await driver.write_tag(red, "on")
    assert server.get("St10.Red") is True


@pytest.mark.asyncio(loop_scope="module")
async def test_a_lights_outputs_are_written_together_each_in_its_own_type(
    server: SimulatedOpcUaPlc,
) -> None:
    red, amber, green = (server.node_id(f"St10.{name}") for name in ("Red", "Amber", "Green"))
    async with OpcUaDriver(config_of(server)) as driver:
        await driver.connect()
        await driver.write_tags({red: 0, amber: 1, green: 1})
        assert await driver.read_tags([red, amber, green]) == {red: False, amber: True, green: 1}
        # A value one variable cannot take is refused before anything is written.
        with pytest.raises(DeviceMisconfigured, match="Boolean"):
            await driver.write_tags({amber: 0, red: "on"})
    assert (server.get("St10.Amber"), server.get("St10.Red")) == (True, False)


@pytest.mark.asyncio(loop_scope="module")
async def test_a_press_shorter_than_the_publishing_interval_arrives_as_press_and_release(
    server: SimulatedOpcUaPlc,
) -> None:
    sink = Recording()
    button = server.node_id("St10.Maintenance")
    # One publish a second: the press and the release land between two publishes.
    driver = OpcUaDriver(config_of(server, publishing_interval_ms=1000))
    async with subscribed(driver, [Monitored(button)], sink):
        await until(lambda: sink.of(button) == [False], timeout=WAIT_S, what="the initial value")
        server.set("St10.Maintenance", True)
        server.set("St10.Maintenance", False)
        await until(lambda: len(sink.of(button)) >= 3, timeout=WAIT_S, what="press and release")
    assert sink.of(button) == [False, True, False]
    assert sink.states == [True]


@pytest.mark.asyncio(loop_scope="module")
async def test_an_unknown_node_in_a_subscription_is_refused_and_the_others_still_arrive(
    server: SimulatedOpcUaPlc,
) -> None:
    sink = Recording()
    good = server.node_id("Press.Force")
    driver = OpcUaDriver(config_of(server))
    async with subscribed(driver, [Monitored("ns=2;s=Nowhere"), Monitored(good, 10)], sink):
        await until(lambda: bool(sink.of(good)), timeout=WAIT_S, what="the good item's value")
    assert sink.refusals == [("ns=2;s=Nowhere", "BadNodeIdUnknown")]


@pytest.mark.asyncio
async def test_a_vanished_server_is_subscribed_anew_on_return_without_invented_presses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = station_plc()
    await asyncio.to_thread(server.start)
    try:
        with caplog.at_level(logging.INFO):
            await _vanish_and_return(server)
    finally:
        await asyncio.to_thread(server.stop)
    # The outage is told once each way (a reminder between if it lasts); asyncua's own
    # lines about each failed try are filtered out: a new asyncua that words them
    # otherwise shows here.
    ours = [r.getMessage() for r in caplog.records if r.name == "drivers.opcua"]
    assert ours[0] == "device ua1 is down: connection lost"
    assert ours[-1].startswith("device ua1 is up again after ")
    theirs = [r for r in caplog.records if r.name.startswith("asyncua.client")]
    assert [r.getMessage() for r in theirs if r.levelno >= logging.WARNING] == []


async def _vanish_and_return(server: SimulatedOpcUaPlc) -> None:
    sink = Recording()
    button = server.node_id("St10.Maintenance")
    quick = Backoff(initial=0.05, cap=0.2)
    driver = OpcUaDriver(config_of(server), backoff=quick)
    async with subscribed(driver, [Monitored(button)], sink):
        await until(lambda: sink.states == [True], timeout=WAIT_S, what="connected")
        server.set("St10.Maintenance", True)
        await until(lambda: sink.of(button) == [False, True], timeout=WAIT_S, what="the press")
        await asyncio.to_thread(server.stop)
        await until(lambda: sink.states == [True, False], timeout=WAIT_S, what="reported down")
        with pytest.raises(DeviceUnavailable):
            await driver.read_tags([button])
        await asyncio.to_thread(server.start)  # still held: the same press, not a new one
        await until(
            lambda: sink.states == [True, False, True], timeout=WAIT_S, what="reported up again"
        )
        await until(
            lambda: len(sink.of(button)) == 3, timeout=WAIT_S, what="the value after the return"
        )
        server.set("St10.Maintenance", False)
        await until(lambda: len(sink.of(button)) == 4, timeout=WAIT_S, what="the release")
    assert sink.of(button) == [False, True, True, False]
    assert driver.connects == 2


@pytest.mark.asyncio
async def test_a_server_not_there_yet_is_tried_until_it_answers() -> None:
    plc = station_plc()
    sink = Recording()
    driver = OpcUaDriver(config_of(plc), backoff=Backoff(initial=0.05, cap=0.2))
    async with subscribed(driver, [Monitored(plc.node_id("Press.Force"))], sink):
        await until(lambda: sink.states == [False], timeout=WAIT_S, what="reported down")
        await asyncio.to_thread(plc.start)
        try:
            await until(lambda: sink.states == [False, True], timeout=WAIT_S, what="reported up")
            await until(
                lambda: sink.of(plc.node_id("Press.Force")) == [10.0],
                timeout=WAIT_S,
                what="its value",
            )
        finally:
            await asyncio.to_thread(plc.stop)


@pytest.mark.asyncio
@pytest.mark.parametrize("der", [False, True], ids=["pem", "der"])
async def test_sign_and_encrypt_with_certificates_and_a_user(tmp_path: Path, der: bool) -> None:
    server_cert, server_key = make_certificate(tmp_path, "server", "urn:andon:tests", der=True)
    client_cert, client_key = make_certificate(
        tmp_path, "client", "urn:plant1:andon:edge1", der=der
    )
    plc = station_plc(certificate=server_cert, private_key=server_key, user=("andon", "s3cret-pw"))
    (tmp_path / "password").write_text("s3cret-pw\n")
    await asyncio.to_thread(plc.start)
    try:
        config = config_of(
            plc,
            security_policy="Basic256Sha256",
            security_mode="SignAndEncrypt",
            certificate=str(client_cert),
            private_key=str(client_key),
            username="andon",
            password=f"{{file:{tmp_path / 'password'}}}",
        )
        async with OpcUaDriver(config) as driver:
            await driver.connect()
            address = plc.node_id("Types.String")
            assert await driver.read_tags([address]) == {address: "SN-0042"}
        wrong = config.model_copy(update={"password": "wrong"})
        async with OpcUaDriver(wrong) as driver:
            with pytest.raises(DeviceUnavailable, match="BadUserAccessDenied"):
                await driver.connect()
    finally:
        await asyncio.to_thread(plc.stop)


@pytest.mark.asyncio
async def test_a_file_that_holds_no_certificate_is_a_misconfiguration(tmp_path: Path) -> None:
    plc = station_plc()
    (tmp_path / "client.crt").write_text("not a certificate")
    (tmp_path / "client.key").write_text("not a key")
    config = config_of(
        plc,
        security_policy="Basic256Sha256",
        security_mode="Sign",
        certificate=str(tmp_path / "client.crt"),
        private_key=str(tmp_path / "client.key"),
    )
    async with OpcUaDriver(config) as driver:
        with pytest.raises(DeviceMisconfigured, match="not a certificate"):
            await driver.connect()


def test_an_edge_without_opcua_servers_does_not_load_the_opcua_stack() -> None:
    # asyncua and its cryptography take some 25 MB of an edge's memory.
    code = (
        "import sys, edge.agent, edge.runner, andon.check_config; print('asyncua' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_certificate_paths_are_taken_relative_to_the_configuration_file(tmp_path: Path) -> None:
    (tmp_path / "plant").mkdir()
    path = tmp_path / "plant" / "edge.yaml"
    path.write_text(
        "edge_id: e\nsite: s\narea: a\nline: l\n"
        "devices:\n"
        "  - {kind: opcua, id: ua1, endpoint: 'opc.tcp://127.0.0.1:4840',\n"
        "     security_policy: Basic256Sha256, security_mode: Sign,\n"
        "     certificate: pki/edge.crt, private_key: /etc/andon/edge.key}\n"
    )
    (device,) = load_edge_config(path).devices
    assert isinstance(device, OpcUaConfig)
    assert device.certificate == tmp_path / "plant" / "pki" / "edge.crt"
    assert device.private_key == Path("/etc/andon/edge.key")

"""Our edge as a Sparkplug B edge node, read by a host application no one here wrote.

``andon edge`` runs as a process against a real PLC (pymodbus) and a real Mosquitto;
pysparkplug, subscribed as a host application in a process of its own
(tests/helpers/sparkplug_peer.py), decodes what it publishes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from drivers.serial_frames import ButtonFrame
from drivers.serial_frames import encode as frame
from rules.registers import ValueType, encode
from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from tests.helpers.plant import AndonProcess, write_yaml
from tests.helpers.ptys import PtyPair
from tests.helpers.sparkplug_peers import Peer, Seen, message, metrics
from tests.helpers.waiting import wait_until

GROUP = "plant-north"
NODE = "edge-line1"
HOST_ID = "scada-primary"

# name, register, type, value the PLC holds, the datatype the node must declare
VALUES: list[tuple[str, int, ValueType, Any, str]] = [
    ("f32", 10, ValueType.FLOAT32, 12.345, "Float"),
    ("f64", 12, ValueType.FLOAT64, -1234.5678, "Double"),
    ("i16", 16, ValueType.INT16, -5, "Int16"),
    ("u16", 17, ValueType.UINT16, 65000, "UInt16"),
    ("i32", 18, ValueType.INT32, -70000, "Int32"),
    ("u32", 20, ValueType.UINT32, 4_000_000_000, "UInt32"),
    ("i64", 22, ValueType.INT64, -(2**40) - 3, "Int64"),
    ("u64", 26, ValueType.UINT64, 2**63 + 5, "UInt64"),
    ("text", 30, ValueType.STRING, "AB12", "String"),
]
BUTTON_COIL, FLAG_COIL, SCALED_REGISTER = 0, 5, 40
F64_DEADBAND = 5.0


@pytest.fixture
def host(broker: MosquittoBroker) -> Iterator[Peer]:
    started = Peer("host", str(broker.port), GROUP)
    yield started
    started.stop()


def _edge_file(tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc) -> Path:
    measurements: list[dict[str, Any]] = [
        {
            "name": name,
            "device": "plc1",
            "address": register,
            "type": str(value_type),
            "station": "st10",
            **({"length": 2} if value_type is ValueType.STRING else {}),
            **({"deadband": F64_DEADBAND} if name == "f64" else {}),
        }
        for name, register, value_type, _value, _datatype in VALUES
    ]
    measurements += [
        {"name": "flag", "device": "plc1", "table": "coil", "address": FLAG_COIL,
         "type": "bool", "station": "st10"},
        {"name": "scaled", "device": "plc1", "address": SCALED_REGISTER, "scale": 0.1,
         "station": "st20"},
    ]  # fmt: skip
    return write_yaml(
        tmp_path / "edge.yaml",
        {
            "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
            "broker": {"host": broker.host, "port": broker.port},
            "outbox": {"path": str(tmp_path / "state" / "outbox.sqlite3")},
            "poll_interval_s": 0.05, "debounce_s": 0.0,
            "devices": [{"kind": "modbus_tcp", "id": "plc1", "host": plc.host,
                         "port": plc.port, "timeout_s": 0.5}],
            "buttons": [{"device": "plc1", "address": BUTTON_COIL, "station": "st10",
                         "call_type": "maintenance"}],
            "measurements": measurements,
            "lights": [{"station": "st10", "device": "plc1",
                        "outputs": {"red": 100, "amber": 101, "green": 102}}],
            "sparkplug": {"group_id": GROUP, "edge_node_id": NODE},
            "machines": [{"station": "st10", "otherwise": "idle",
                          "rules": [{"tag": "flag", "is": True, "state": "running"}]}],
        },
    )  # fmt: skip


def _as_float32(value: float) -> float:
    result: float = struct.unpack("<f", struct.pack("<f", value))[0]
    return result


# pysparkplug's names of the datatypes
DATATYPE_NAMES = {"Float": "FLOAT", "Double": "DOUBLE", "Int16": "INT16", "UInt16": "UINT16",
                  "Int32": "INT32", "UInt32": "UINT32", "Int64": "INT64", "UInt64": "UINT64",
                  "Boolean": "BOOLEAN", "String": "STRING"}  # fmt: skip


def _check_births(host: Peer, after: int) -> tuple[int, Seen]:
    """The NBIRTH and the PLC's DBIRTH after line ``after``: bdSeq and the DBIRTH."""
    nbirth = host.wait_for("NBIRTH", message("NBIRTH"), after=after)
    node = metrics(nbirth)
    assert nbirth["seq"] == 0
    assert node["bdSeq"]["datatype"] == "INT64"
    assert node["Node Control/Rebirth"] == {
        "name": "Node Control/Rebirth",
        "datatype": "BOOLEAN",
        "value": False,
    }
    dbirth = host.wait_for("DBIRTH", message("DBIRTH", "plc1"), after=after)
    bd_seq = node["bdSeq"]["value"]
    assert isinstance(bd_seq, int)
    return bd_seq, dbirth


def _assert_seq_without_gaps(lines: list[Seen]) -> None:
    published = ("NBIRTH", "DBIRTH", "NDATA", "DDATA")  # not the NCMD, not the NDEATH
    seqs = [line["seq"] for line in lines if line.get("type") in published]
    for previous, current in itertools.pairwise(seqs):
        assert current in ((previous + 1) % 256, 0), seqs  # 0: births again


def test_a_host_reads_births_data_rebirth_and_death_of_our_edge(  # noqa: PLR0915
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, host: Peer
) -> None:
    for _name, register, value_type, value, _datatype in VALUES:
        length = 2 if value_type is ValueType.STRING else 0
        plc.set_value("holding_register", register, value, value_type, length=length)
    plc.set_coil(FLAG_COIL, True)
    plc.set_register(SCALED_REGISTER, 123)
    edge = AndonProcess("edge", _edge_file(tmp_path, broker, plc), tmp_path / "edge.log")
    edge.start()
    try:
        bd_seq, dbirth = _check_births(host, 0)
        born = metrics(dbirth)
        expected = {f"st10/{name}": (value, datatype) for name, _r, _t, value, datatype in VALUES}
        expected["st10/flag"] = (True, "Boolean")
        expected["st20/scaled"] = (123 * 0.1, "Double")
        expected["st10/call/maintenance"] = (False, "Boolean")
        expected["st10/light"] = (None, "String")
        expected["st10/state"] = ("running", "String")  # the machine: its flag is set
        assert set(born) == set(expected)
        # The births carry the values polled so far; the rest follow as DDATA at once.
        current = {name: metric["value"] for name, metric in born.items()}
        marker = 0

        def latest() -> dict[str, Any]:
            values = dict(current)
            for line in host.seen():  # every DDATA since the births: they carry changes only
                if message("DDATA", "plc1")(line):
                    values.update({n: m["value"] for n, m in metrics(line).items()})
            return values

        for name, (_value, datatype) in expected.items():
            assert born[name]["datatype"] == DATATYPE_NAMES[datatype], name
        want = {name: value for name, (value, _datatype) in expected.items()}
        want["st10/f32"] = _as_float32(want["st10/f32"])
        wait_until(lambda: latest() == want or None, what=f"values {want}, have {latest()}")

        # A press: the button held, the light the edge sets while no hub is there.
        marker = len(host.seen())
        plc.set_coil(BUTTON_COIL, True)
        plc.set_register(17, 7)
        wait_until(
            lambda: (
                latest().get("st10/call/maintenance") is True
                and latest().get("st10/light") == "amber"
                and latest().get("st10/u16") == 7
            ),
            what="the press, the light and the new value",
        )
        plc.set_coil(BUTTON_COIL, False)
        wait_until(lambda: latest().get("st10/call/maintenance") is False, what="release")

        # Deadband: f64 moves by less than it, u16 changes, in one write (one poll sees
        # both): the DDATA that carries u16 has no f64. Then a move beyond it is sent.
        f64, i16 = want["st10/f64"], want["st10/i16"]
        inside, beyond = f64 + F64_DEADBAND / 2, f64 + F64_DEADBAND * 2
        marker = len(host.seen())
        words = encode(inside, ValueType.FLOAT64) + encode(i16, ValueType.INT16)
        plc.set_registers("holding_register", 12, [*words, *encode(8, ValueType.UINT16)])
        ddata = host.wait_for(
            "u16 at 8",
            lambda line: (
                message("DDATA", "plc1")(line)
                and metrics(line).get("st10/u16", {}).get("value") == 8
            ),
            after=marker,
        )
        assert "st10/f64" not in metrics(ddata)
        assert latest()["st10/f64"] == f64
        plc.set_value("holding_register", 12, beyond, ValueType.FLOAT64)
        wait_until(lambda: latest()["st10/f64"] == beyond, what="f64 beyond its deadband")

        # The machine stops: its state follows the flag it is read from.
        plc.set_coil(FLAG_COIL, False)
        wait_until(
            lambda: latest().get("st10/state") == "idle" and latest()["st10/flag"] is False,
            what="the machine idle",
        )

        # Rebirth, on the same connection: NBIRTH (seq 0, same bdSeq) and DBIRTH again.
        marker = len(host.seen())
        host.send({"rebirth": NODE})
        again, redbirth = _check_births(host, marker)
        assert again == bd_seq
        assert metrics(redbirth)["st10/u16"]["value"] == 8

        # Killed: the broker publishes the Will, an NDEATH with the births' bdSeq.
        marker = len(host.seen())
        edge.stop(signal.SIGKILL)
        death = host.wait_for("NDEATH", message("NDEATH"), after=marker)
        assert death["bdSeq"] == bd_seq
        _assert_seq_without_gaps(host.seen()[:marker])

        # The next start takes the next bdSeq (kept in the edge's state directory).
        marker = len(host.seen())
        edge.start()
        next_bd_seq, _dbirth = _check_births(host, marker)
        assert next_bd_seq == (bd_seq + 1) % 256
    except BaseException:
        print(edge.log_tail())
        raise
    finally:
        edge.stop()


def _publish_state(broker: MosquittoBroker, *, online: bool, timestamp: int) -> None:
    body = json.dumps({"online": online, "timestamp": timestamp})

    async def publish() -> None:
        async with aiomqtt.Client(broker.host, broker.port) as client:
            await client.publish(f"spBv1.0/STATE/{HOST_ID}", body, qos=1, retain=True)

    asyncio.run(publish())


def test_with_a_primary_host_births_wait_for_its_state_and_follow_its_return(
    tmp_path: Path, broker: MosquittoBroker, plc: SimulatedPlc, host: Peer
) -> None:
    path = _edge_file(tmp_path, broker, plc)
    edge_file = yaml.safe_load(path.read_text())
    edge_file["sparkplug"]["primary_host_id"] = HOST_ID
    write_yaml(path, edge_file)
    _publish_state(broker, online=False, timestamp=1)
    edge = AndonProcess("edge", path, tmp_path / "edge.log")
    edge.start()
    try:
        wait_until(lambda: f"primary host {HOST_ID} offline" in edge.log(), what="offline")
        # Births go out only after an online STATE: none was ever published.
        assert not [line for line in host.seen() if line.get("type") == "NBIRTH"]
        _publish_state(broker, online=True, timestamp=2)
        _check_births(host, 0)
        _publish_state(broker, online=False, timestamp=3)
        wait_until(lambda: edge.log().count(f"primary host {HOST_ID} offline") == 2, what="off")
        marker = len(host.seen())
        _publish_state(broker, online=True, timestamp=4)
        _check_births(host, marker)
        # A STATE older than one already seen changes nothing: still born, data flows.
        _publish_state(broker, online=False, timestamp=1)
        plc.set_register(17, 9)
        host.wait_for(
            "DDATA after a stale STATE",
            lambda line: message("DDATA", "plc1")(line) and "st10/u16" in metrics(line),
            after=marker,
        )
    except BaseException:
        print(edge.log_tail())
        raise
    finally:
        edge.stop()


def test_a_serial_station_press_and_release_set_the_call_metric(
    tmp_path: Path, broker: MosquittoBroker, host: Peer
) -> None:
    with PtyPair(tmp_path / "station") as station:
        path = write_yaml(
            tmp_path / "edge.yaml",
            {
                "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
                "broker": {"host": broker.host, "port": broker.port},
                "outbox": {"path": str(tmp_path / "state" / "outbox.sqlite3")},
                "devices": [{"kind": "serial_button_station", "id": "box-st10",
                             "port": str(station.device_path)}],
                "buttons": [{"device": "box-st10", "button": "maint", "station": "st10",
                             "call_type": "maintenance"}],
                "sparkplug": {"group_id": GROUP, "edge_node_id": NODE},
            },
        )  # fmt: skip
        edge = AndonProcess("edge", path, tmp_path / "edge.log")
        edge.start()
        try:
            dbirth = host.wait_for("DBIRTH", message("DBIRTH", "box-st10"))
            assert metrics(dbirth)["st10/call/maintenance"]["value"] is False

            def call_metric(value: bool) -> Callable[[Seen], bool]:
                return lambda line: (
                    message("DDATA", "box-st10")(line)
                    and metrics(line).get("st10/call/maintenance", {}).get("value") is value
                )

            wait_until(lambda: "serial device box-st10 opened" in edge.log(), what="the port open")
            marker = len(host.seen())
            station.write(frame(ButtonFrame("st10", "maint", True, 1)))
            host.wait_for("the press", call_metric(True), after=marker)
            marker = len(host.seen())
            station.write(frame(ButtonFrame("st10", "maint", False, 2)))
            host.wait_for("the release", call_metric(False), after=marker)
            # The press raised its call as well, as a polled button's does.
            wait_until(lambda: "press at station st10 (maintenance)" in edge.log(), what="the call")
        except BaseException:
            print(edge.log_tail())
            raise
        finally:
            edge.stop()

"""``andon edge --test`` on an OPC UA server (asyncua's, on loopback): every tag read once
and printed as a JSON line with its address as written; a bad NodeId named on stderr."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from testbed.opcua_plc import STATION_VARIABLES, SimulatedOpcUaPlc

pytestmark = pytest.mark.asyncio(loop_scope="module")

ANDON = [sys.executable, "-m", "andon.cli"]


@pytest.fixture(scope="module")
def opcua() -> Iterator[SimulatedOpcUaPlc]:
    with SimulatedOpcUaPlc(bits=0, words=0, variables=STATION_VARIABLES) as server:
        yield server


async def _andon(*args: str) -> tuple[int, str, str]:
    """Run ``andon``, its output read as it comes."""
    process = await asyncio.create_subprocess_exec(
        *ANDON, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _edge_file(tmp_path: Path, server: SimulatedOpcUaPlc, **sections: Any) -> Path:
    config = {
        "edge_id": "edge-1", "site": "p", "area": "a", "line": "l",
        "devices": [{"kind": "opcua", "id": "ua1", "endpoint": server.endpoint}],
        **sections,
    }  # fmt: skip
    path = tmp_path / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


async def test_test_mode_prints_each_value_with_its_address_as_written(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    force, button = opcua.node_id("Press.Force"), opcua.node_id("St10.Quality")
    names = ["Types.Int32", "Types.UInt64", "Types.Float", "Types.String", "Types.Bool"]
    measurements: list[dict[str, object]] = [
        {"name": f"m{i}", "device": "ua1", "address": opcua.node_id(name), "station": "st10"}
        for i, name in enumerate(names)
    ]
    measurements.append(
        {"name": "force", "device": "ua1", "address": force, "scale": 2.0, "unit": "kN"}
        | {"station": "st10", "type": "float64"}
    )
    buttons = [{"device": "ua1", "address": button, "station": "st10", "call_type": "quality"}]
    path = _edge_file(tmp_path, opcua, measurements=measurements, buttons=buttons)
    code, out, err = await _andon("edge", "--config", str(path), "--test")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    by_name = {line["name"]: line for line in lines if "name" in line}
    assert by_name["force"] == {
        "name": "force", "value": 20.0, "unit": "kN", "station": "st10", "device": "ua1",
        "table": None, "address": force, "bit": None, "raw": 10.0,
    }  # fmt: skip
    assert [by_name[f"m{i}"]["raw"] for i in range(len(names))] == [
        -123456, 2**63 + 5, 1.5, "SN-0042", True,
    ]  # fmt: skip
    (pressed,) = [line for line in lines if "button" in line]
    assert pressed == {
        "button": "st10/quality", "station": "st10", "call_type": "quality", "device": "ua1",
        "table": None, "address": button, "bit": None, "pressed": False,
    }  # fmt: skip


async def test_test_mode_names_a_node_the_server_does_not_have_and_exits_1(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    measurements = [
        {"name": "good", "device": "ua1", "address": opcua.node_id("Press.Force")}
        | {"station": "st10"},
        {"name": "gone", "device": "ua1", "address": "ns=2;s=No.Such.Tag", "station": "st10"},
        {"name": "typed", "device": "ua1", "address": opcua.node_id("Types.Int32")}
        | {"station": "st10", "type": "int16"},
    ]
    path = _edge_file(tmp_path, opcua, measurements=measurements)
    code, out, err = await _andon("edge", "--config", str(path), "--test")
    assert code == 1
    assert [json.loads(line)["name"] for line in out.splitlines()] == ["good"]
    assert "FAILED device ua1 address ns=2;s=No.Such.Tag: ua1: ns=2;s=No.Such.Tag:" in err
    assert "BadNodeIdUnknown" in err
    typed = opcua.node_id("Types.Int32")
    assert f"FAILED device ua1 address {typed}: its DataType is int32, not int16" in err


async def test_browse_prints_the_servers_variables_with_type_and_access(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    path = _edge_file(tmp_path, opcua)
    code, out, err = await _andon("edge", "browse", "--config", str(path), "--device", "ua1")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    by_id = {line["node_id"]: line for line in lines}
    assert by_id[opcua.node_id("Types.UInt32")] == {
        "node_id": opcua.node_id("Types.UInt32"), "browse_path": "Plc/Types.UInt32",
        "node_class": "Variable", "data_type": "UInt32", "type": "uint32",
        "access_level": ["read", "write"],
    }  # fmt: skip
    assert by_id["i=2253"]["browse_path"] == "Server"  # listed, not walked into
    assert not [line for line in lines if line["browse_path"].startswith("Server/")]


async def test_browse_starts_at_a_node_and_stops_at_the_depth(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    path = _edge_file(tmp_path, opcua)
    code, out, err = await _andon(
        "edge", "browse", "--config", str(path), "--device", "ua1", "--node", "ns=2;i=1",
        "--depth", "1",
    )  # fmt: skip
    assert code == 0, err
    paths = [json.loads(line)["browse_path"] for line in out.splitlines()]
    assert "Types.Double" in paths
    assert all("/" not in p for p in paths)


async def test_browse_refuses_a_device_that_is_not_an_opcua_server_and_a_bad_node(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    path = _edge_file(tmp_path, opcua)
    code, _, err = await _andon("edge", "browse", "--config", str(path), "--device", "plc9")
    assert (code, "--device names an OPC UA device of the file: ua1" in err) == (2, True)
    code, _, err = await _andon(
        "edge", "browse", "--config", str(path), "--device", "ua1", "--node", "Plant"
    )
    assert (code, "--node: not a NodeId: 'Plant'" in err) == (2, True)


async def test_an_edge_whose_opcua_password_cannot_be_read_does_not_start(
    tmp_path: Path, opcua: SimulatedOpcUaPlc
) -> None:
    path = _edge_file(tmp_path, opcua)
    config = yaml.safe_load(path.read_text())
    config["devices"][0] |= {"username": "andon", "password": "{env:ANDON_TEST_NO_SUCH_VAR}"}
    path.write_text(yaml.safe_dump(config))
    code, _, err = await _andon("edge", "--config", str(path))
    assert code == 1
    assert f"{path}: environment variable ANDON_TEST_NO_SUCH_VAR is not set" in err

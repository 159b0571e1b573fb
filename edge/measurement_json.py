"""The JSON of a measurement message, built without a pydantic model per reading or point.

An edge publishes one message per poll cycle with a reading per measurement and a point
per charted subgroup, hundreds of them ten times a second; building ``MeasurementReading``
and ``SpcPoint`` models only to dump them again was a large share of the agent's CPU.
Everything that goes in here is valid by construction (names, stations and units come
from the validated configuration, values are finite numbers, booleans or strings, the
points come from the SPC core), so the dictionaries are serialised directly, in the
models' field order, with unset optionals left out: the bytes are those of
``event_json(MeasurementEvent(...))`` (``tests/edge/test_measurement_json.py`` holds the two
side by side). The payload goes through orjson, which writes the same JSON as
pydantic-core's ``to_json`` four times faster (35 kB a cycle: 50 against 215 µs); an
integer beyond 64 bits, which orjson refuses, sends the payload through ``to_json``.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from pydantic_core import to_json

from contract.wire import MeasuredValue, PartRef
from rules.spc.monitor import PointRow

# (station, name, value, unit) of one reading, ``unit`` None when the measurement has none.
ReadingRow = tuple[str, str, MeasuredValue, str | None]


def measurement_json(
    head: Mapping[str, object],
    readings: list[ReadingRow],
    points: list[PointRow],
    parts: Mapping[str, PartRef],
    units: Mapping[str, str] | None = None,
) -> str:
    """The wire JSON of a measurement message: ``head`` holds the envelope's fields (in
    ``EdgeEnvelope`` order); each reading and point carries its station's part if known,
    and each point its measurement's unit from ``units`` (measurement name to unit)."""
    return wrap_payload(head, measurement_payload_json(readings, points, parts, units))


def wrap_payload(head: Mapping[str, object], payload: str) -> str:
    """The message around a payload's JSON: the same bytes ``to_json`` gives for the whole."""
    return to_json(head).decode()[:-1] + ',"kind":"measurement","payload":' + payload + "}"


def measurement_payload_json(
    readings: list[ReadingRow],
    points: list[PointRow],
    parts: Mapping[str, PartRef],
    units: Mapping[str, str] | None = None,
) -> str:
    """The JSON of a measurement message's payload."""
    # The unit goes with every point, not only with the readings: a message split for
    # its size may carry a point without its measurement's reading.
    unit_of = units or {}
    part_of = {station: part.model_dump(exclude_none=True) for station, part in parts.items()}
    reading_dicts: list[dict[str, object]] = []
    for station, name, value, unit in readings:
        item: dict[str, object] = {"station": station, "name": name, "value": value}
        if unit is not None:
            item["unit"] = unit
        if station in part_of:
            item["part"] = part_of[station]
        reading_dicts.append(item)
    point_dicts: list[dict[str, object]] = []
    for station, name, chart, measurement, subgroup, value, center, lcl, ucl, tests in points:
        point: dict[str, object] = {
            "station": station, "characteristic": name, "chart": chart,
            "measurement": measurement, "subgroup": subgroup, "value": value,
            "center": center, "lcl": lcl, "ucl": ucl, "tests": tests,
        }  # fmt: skip
        if station in part_of:
            point["part"] = part_of[station]
        if measurement in unit_of:
            point["unit"] = unit_of[measurement]
        point_dicts.append(point)
    payload = {"readings": reading_dicts, "points": point_dicts}
    try:
        return orjson.dumps(payload).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits
        return to_json(payload).decode()

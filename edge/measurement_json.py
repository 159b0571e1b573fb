"""The JSON of a measurement event, built without a pydantic model per reading.

A station's batch is published ten times a second with a reading per measurement, and
building ``MeasurementReading`` models only to dump them again was a large share of the
agent's CPU. Everything that goes in here is valid by construction (names, stations and
units come from the validated configuration, values are finite numbers, booleans or
strings), so the dictionary is serialised by pydantic-core's own ``to_json``: the same
serialiser ``event_json`` uses, in the models' field order, with unset optionals left
out, so the bytes are those of ``event_json(MeasurementEvent(...))``
(``tests/test_measurement_json.py`` holds the two side by side).
"""

from __future__ import annotations

from pydantic_core import to_json

from contract.wire import MeasuredValue, PartRef

# (name, value, unit) of one reading, ``unit`` None when the measurement has none.
ReadingRow = tuple[str, MeasuredValue, str | None]


def measurement_json(
    head: dict[str, object], station: str, part: PartRef | None, readings: list[ReadingRow]
) -> str:
    """The wire JSON of a measurement event: ``head`` holds the envelope's fields (in
    ``EdgeEnvelope`` order), then the station, its part if known, and the readings."""
    event: dict[str, object] = {**head, "station": station}
    if part is not None:
        event["part"] = part.model_dump(exclude_none=True)
    event["kind"] = "measurement"
    event["payload"] = {
        "readings": [
            {"name": name, "value": value}
            if unit is None
            else {"name": name, "value": value, "unit": unit}
            for name, value, unit in readings
        ]
    }
    return to_json(event).decode()

"""The measurement JSON built without models is byte for byte that of the models."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from contract.wire import (
    MeasuredValue,
    MeasurementEvent,
    MeasurementPayload,
    MeasurementReading,
    PartRef,
    SpcPoint,
    event_json,
    parse_any_event,
    utc_now,
)
from edge.measurement_json import ReadingRow, measurement_json
from rules.spc.monitor import PointRow

VALUES: list[MeasuredValue] = [
    1000.1000000000001, 0.1, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, -0.0, 12.0, 3, -7,
    2**64 - 1, -(2**63), True, False, "", "P-123", "1,5", "[2]",
    'quote " and \\ and / slash', "é ü 中", "\u2028 \U0001f600",
]  # fmt: skip
# An integer beyond 64 bits (orjson refuses it: the payload goes through pydantic-core).
# No register holds one, and the hub refuses it; the edge still writes it as the model would.
BIG = [*VALUES, 2**70]


def _head() -> dict[str, object]:
    return {
        "event_id": "edge-1:42",
        "edge_id": "edge-1",
        "seq": 42,
        "ts": utc_now(),
        "site": "s1",
        "area": "a1",
        "line": "l1",
    }


PARTS = [None, PartRef(), PartRef(serial="SN-1"), PartRef(lot="L7"), PartRef(serial="S", lot="L")]
# Points of m0 and m1 carry a unit (from the edge's measurement config); "bad" has none.
UNITS = {"m0": "mm", "m1": "kN"}


@pytest.mark.parametrize("values", [VALUES, BIG], ids=["64-bit", "bigger"])
@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("unit", [None, "mm", "°C"])
def test_measurement_json_is_the_models_json(
    part: PartRef | None, unit: str | None, values: list[MeasuredValue]
) -> None:
    head = _head()
    rows: list[ReadingRow] = [("st1", f"m{i}", value, unit) for i, value in enumerate(values)]
    rows.append(("st2", "no_unit", 1.5, None))
    points: list[PointRow] = [
        ("st1", "bore", "imr", "m0", 7, 1000.1000000000001, 1000.0, 970.0, 1030.0, ()),
        ("st2", "rejects", "p", "bad", 2**40, 1e-7, 0.02, 0.0, 0.062, (1, 5)),
        ("st2", "offset", "imr", "m1", 8, -0.0, -0.0, -1e-300, 1e300, (2,)),
        ("st2", "offset", "imr", "m1", 9, 0.0, 0.0, -1e-300, 1e300, (2,)),
    ]
    parts = {} if part is None else {"st1": part}
    # The model refuses an integer beyond 64 bits: built unchecked, to compare the bytes.
    reading = MeasurementReading if values is VALUES else MeasurementReading.model_construct
    model = MeasurementEvent.model_validate(
        {
            **head,
            "kind": "measurement",
            "payload": MeasurementPayload(
                readings=[
                    reading(station=st, name=n, value=v, unit=u, part=parts.get(st))
                    for st, n, v, u in rows
                ],
                points=[
                    SpcPoint(
                        station=p[0], characteristic=p[1], chart=p[2], measurement=p[3],
                        subgroup=p[4], value=p[5], center=p[6], lcl=p[7], ucl=p[8],
                        tests=list(p[9]), part=parts.get(p[0]), unit=UNITS.get(p[3]),
                    )
                    for p in points
                ],
            ),
        }
    )  # fmt: skip
    built = measurement_json(head, rows, points, parts, UNITS)
    assert built == event_json(model)
    if values is VALUES:
        assert parse_any_event(built) == model
    else:
        with pytest.raises(ValidationError, match="must fit 64 bits"):
            parse_any_event(built)

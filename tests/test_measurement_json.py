"""The measurement JSON built without models is byte for byte that of the models."""

from __future__ import annotations

import pytest

from contract.wire import (
    MeasuredValue,
    MeasurementEvent,
    MeasurementPayload,
    MeasurementReading,
    PartRef,
    event_json,
    utc_now,
)
from edge.measurement_json import ReadingRow, measurement_json

VALUES: list[MeasuredValue] = [
    1000.1000000000001, 0.1, 1e16, 1e-7, -0.0, 12.0, 3, -7, 2**70, True, False,
    "", "P-123", 'quote " and \\ and\nnewline', "é ü 中", "\x00\x1f",
]  # fmt: skip


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


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("unit", [None, "mm", "°C"])
def test_measurement_json_is_the_models_json(part: PartRef | None, unit: str | None) -> None:
    head = _head()
    rows: list[ReadingRow] = [(f"m{i}", value, unit) for i, value in enumerate(VALUES)]
    rows.append(("no_unit", 1.5, None))
    model = MeasurementEvent.model_validate(
        {
            **head,
            "station": "st1",
            "part": part,
            "kind": "measurement",
            "payload": MeasurementPayload(
                readings=[MeasurementReading(name=n, value=v, unit=u) for n, v, u in rows]
            ),
        }
    )
    assert measurement_json(head, "st1", part, rows) == event_json(model)

"""The anomaly event's JSON built without models is byte for byte that of the models."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from contract.wire import AnomalyEvent, PartRef, event_json, parse_any_event, utc_now
from edge.anomaly_json import anomaly_json

PARTS = [None, PartRef(), PartRef(serial="SN-1"), PartRef(lot="L7"), PartRef(serial="S", lot="é")]
NUMBERS = [
    (1040.1000000000001, 1000.0, 970.0, 1030.0),
    (1e16, 1e-7, -0.0, 12.0),
]
# The SPC core charts no NaN or infinity; were one to slip through, it goes out as null
# and the hub refuses the event (the model refuses it too).
NOT_FINITE = [(math.nan, 0.02, 0.0, 0.062), (math.inf, -math.inf, 3.0, 4.0)]


@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("numbers", NUMBERS)
@pytest.mark.parametrize("tests", [(1,), (2, 5, 8)])
def test_anomaly_json_is_the_models_json(
    part: PartRef | None, numbers: tuple[float, float, float, float], tests: tuple[int, ...]
) -> None:
    head = {
        "event_id": "edge-1:42", "edge_id": "edge-1", "seq": 42, "ts": utc_now(),
        "site": "s1", "area": "a1", "line": "l1",
    }  # fmt: skip
    value, center, lcl, ucl = numbers
    fields = {
        "characteristic": 'bore "Ø"', "chart": "imr", "measurement": "bore_diameter",
        "value": value, "center": center, "lcl": lcl, "ucl": ucl, "subgroup": 2**40,
    }  # fmt: skip
    model = AnomalyEvent.model_validate(
        {
            **head, "station": "st10", "part": part, "kind": "anomaly",
            "payload": {**fields, "tests": list(tests)},
        }
    )  # fmt: skip
    built = anomaly_json(head, station="st10", part=part, tests=tests, **fields)  # type: ignore[arg-type]
    assert built == event_json(model)
    assert parse_any_event(built.encode()) == model


@pytest.mark.parametrize("numbers", NOT_FINITE)
def test_an_anomaly_that_is_not_finite_is_refused_by_model_and_hub(
    numbers: tuple[float, float, float, float],
) -> None:
    head = {
        "event_id": "edge-1:42", "edge_id": "edge-1", "seq": 42, "ts": utc_now(),
        "site": "s1", "area": "a1", "line": "l1",
    }  # fmt: skip
    value, center, lcl, ucl = numbers
    fields = {
        "characteristic": "bore", "chart": "imr", "measurement": "bore_diameter",
        "value": value, "center": center, "lcl": lcl, "ucl": ucl, "subgroup": 2,
    }  # fmt: skip
    built = anomaly_json(head, station="st10", part=None, tests=(1,), **fields)  # type: ignore[arg-type]
    assert '"value":null' in built or '"center":null' in built
    with pytest.raises(ValidationError, match="payload"):
        parse_any_event(built.encode())
    with pytest.raises(ValidationError, match="finite"):
        AnomalyEvent.model_validate(
            {**head, "station": "st10", "kind": "anomaly", "payload": {**fields, "tests": [1]}}
        )


def test_whole_numbers_from_a_counter_chart_go_out_as_the_model_writes_them() -> None:
    head = {
        "event_id": "edge-1:7", "edge_id": "edge-1", "seq": 7, "ts": utc_now(),
        "site": "s1", "area": "a1", "line": "l1",
    }  # fmt: skip
    fields = {
        "characteristic": "rejects", "chart": "np", "measurement": "bad", "value": 9,
        "center": 2, "lcl": 0, "ucl": 6, "subgroup": 3,
    }  # fmt: skip
    model = AnomalyEvent.model_validate(
        {**head, "station": "st1", "kind": "anomaly", "payload": {**fields, "tests": [1]}}
    )
    built = anomaly_json(head, station="st1", part=None, tests=(1,), **fields)  # type: ignore[arg-type]
    assert built == event_json(model)

"""The JSON of an anomaly event, built without its pydantic models.

An in-control rule set over a few hundred charts at 10 Hz fires dozens of times a
second; validating an ``AnomalyPayload`` and an ``AnomalyEvent`` for each, only to dump
them again, was a tenth of the edge's CPU. What goes in is valid by construction (the
envelope's fields from the validated configuration and the outbox's sequence number,
the rest from the SPC core), so a dictionary in the models' field order goes through
pydantic-core's ``to_json``, with the models' settings (unset optionals left out, NaN
and infinities as ``null``): the bytes are those of ``event_json(AnomalyEvent(...))``
(``tests/edge/test_anomaly_json.py`` holds the two side by side).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic_core import to_json

from contract.wire import PartRef


def anomaly_json(
    head: Mapping[str, object],
    *,
    station: str,
    part: PartRef | None,
    characteristic: str,
    chart: str,
    measurement: str,
    tests: tuple[int, ...],
    value: float,
    center: float,
    lcl: float,
    ucl: float,
    subgroup: int,
) -> str:
    """The wire JSON of an anomaly event; ``head`` holds the envelope's fields (in
    ``EdgeEnvelope`` order)."""
    event: dict[str, object] = {**head, "station": station}
    if part is not None:
        event["part"] = part.model_dump(exclude_none=True)
    event["kind"] = "anomaly"
    event["payload"] = {
        "characteristic": characteristic, "chart": chart, "measurement": measurement,
        "tests": [int(number) for number in tests], "value": float(value),
        "center": float(center), "lcl": float(lcl), "ucl": float(ucl),
        "subgroup": int(subgroup),
    }  # fmt: skip
    return to_json(event, inf_nan_mode="null").decode()

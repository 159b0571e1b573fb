"""Messages that break the wire contract in each field that can be broken, for the tests
of the hub's door; and a database that refuses a value the contract lets through (a
trigger, as a check an administrator added would), for the tests of setting aside.

A bad message is a good one of its kind with one field replaced by raw JSON: NaN,
Infinity, -Infinity, an integer of 10^30, a text with NUL or ESC, a list of 10,000
items. The envelope of each is valid (but where the envelope's own ``seq`` is the field),
so the hub can name its event when it tells the edge.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from contract.wire import Topics, make_event_id, utc_now

SITE = "plant1"
AREA = "assembly"
LINE = "line1"
STATION = "st10"
EDGE = "edge-bad"
POISON = "poison"  # the characteristic the database is made to refuse

NOT_FINITE = ["NaN", "Infinity", "-Infinity"]
HUGE = "1" + "0" * 30  # 10^30, as a JSON integer
CONTROL = ['"a\\u0000b"', '"a\\u001bb"']
LONG_LIST = "[" + ",".join(["1"] * 10_000) + "]"
_MARK = "__BAD_VALUE__"

FLOATS = [*NOT_FINITE, LONG_LIST]
INTEGERS = [*NOT_FINITE, HUGE, LONG_LIST]
TEXTS = [*CONTROL, LONG_LIST]


@dataclass(frozen=True)
class BadMessage:
    """One message with one bad field: where it goes, what it is, and its seq."""

    what: str
    topic: str
    payload: bytes
    seq: int | None  # None where the envelope itself is broken
    measurement: bool = False


def _head(seq: int, kind: str) -> dict[str, Any]:
    return {
        "event_id": make_event_id(EDGE, seq), "edge_id": EDGE, "seq": seq,
        "ts": utc_now().isoformat(), "site": SITE, "area": AREA, "line": LINE, "kind": kind,
    }  # fmt: skip


def station_event(seq: int, kind: str, payload: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {**_head(seq, kind), "station": STATION, "payload": payload, **more}


def anomaly_payload(characteristic: str = "bore") -> dict[str, Any]:
    return {
        "characteristic": characteristic, "chart": "imr", "measurement": "bore",
        "tests": [1], "value": 10.5, "center": 10.0, "lcl": 9.7, "ucl": 10.3, "subgroup": 6,
    }  # fmt: skip


def measurement_payload(characteristic: str = "bore") -> dict[str, Any]:
    reading = {"station": STATION, "name": "bore", "value": 10.5, "unit": "mm"}
    point = {"station": STATION, **anomaly_payload(characteristic), "tests": []}
    return {"readings": [reading], "points": [point]}


def _station_kinds(seq: int) -> dict[str, tuple[dict[str, Any], dict[str, list[str]]]]:
    """Each station kind: a good message, and its fields with the bad values for each."""
    part = {"part": {"serial": "SN-1", "lot": "L1"}}
    anomaly = dict.fromkeys(("value", "center", "lcl", "ucl"), FLOATS)
    return {
        "call": (
            station_event(seq, "call", {"call_type": "maintenance"}, **part),
            {"payload.call_type": TEXTS, "part.serial": TEXTS, "part.lot": TEXTS,
             "seq": INTEGERS},
        ),
        "arrival": (station_event(seq, "arrival", {}), {"payload.call_type": TEXTS}),
        "anomaly": (
            station_event(seq, "anomaly", anomaly_payload(), **part),
            {**{f"payload.{k}": v for k, v in anomaly.items()},
             "payload.subgroup": INTEGERS, "payload.tests": [LONG_LIST, "[1,1]", "[9]"],
             "payload.tests.0": INTEGERS, "payload.characteristic": TEXTS,
             "part.serial": TEXTS},
        ),
        "fault": (
            station_event(seq, "fault", {"fault": "chatter", "detail": "x", "presses": 40}),
            {"payload.detail": TEXTS, "payload.presses": INTEGERS, "payload.device": TEXTS},
        ),
        "light_mismatch": (
            station_event(seq, "fault", {"fault": "light_mismatch", "expected": {"red": 1}}),
            {"payload.expected.red": INTEGERS},
        ),
        "output": (
            station_event(seq, "output", {"output": "line_stop", "value": 1}),
            {"payload.value": INTEGERS, "payload.device": TEXTS},
        ),
    }  # fmt: skip


def _edge_kinds(seq: int) -> dict[str, tuple[dict[str, Any], dict[str, list[str]]]]:
    device = {**_head(seq, "device_status"), "payload": {"device": "plc1", "status": "offline"}}
    measurement = {**_head(seq, "measurement"), "payload": measurement_payload()}
    point = {f"payload.points.0.{k}": FLOATS for k in ("value", "center", "lcl", "ucl")}
    return {
        "device_status": (device, {"payload.device": TEXTS, "payload.reason": TEXTS}),
        "measurement": (
            measurement,
            {"payload.readings.0.value": [*NOT_FINITE, HUGE, *CONTROL, LONG_LIST],
             "payload.readings.0.name": TEXTS, "payload.readings.0.unit": TEXTS,
             "payload.points.0.subgroup": INTEGERS, "payload.points.0.tests": [LONG_LIST],
             "payload.points.0.characteristic": TEXTS, **point, "seq": INTEGERS},
        ),
    }  # fmt: skip


def bad_messages(prefix: str, first_seq: int = 1) -> list[BadMessage]:
    """Every kind with every breakable field broken in every way, one message each."""
    topics = Topics(prefix)
    station_topic = topics.event(SITE, AREA, LINE, STATION)
    messages: list[BadMessage] = []
    seq = first_seq
    for builder, topic in (
        (_station_kinds, station_topic),
        (_edge_kinds, topics.edge_event(SITE, EDGE)),
    ):
        for kind, (good, fields) in builder(0).items():
            for path, values in fields.items():
                for raw in values:
                    body = _with(good, path, raw, seq)
                    is_measurement = kind == "measurement"
                    where = topics.measurement(SITE, EDGE) if is_measurement else topic
                    messages.append(
                        BadMessage(
                            f"{kind} {path}={raw[:20]}", where, body,
                            None if path == "seq" else seq, is_measurement,
                        )
                    )  # fmt: skip
                    seq += 1
    status = topics.edge_status(SITE, EDGE)
    for raw in [*INTEGERS, *CONTROL]:
        body = ('{"status":"online","session":' + raw + "}").encode()
        messages.append(BadMessage(f"status session={raw[:20]}", status, body, None))
    return messages


def _with(good: dict[str, Any], path: str, raw: str, seq: int) -> bytes:
    """``good`` renumbered ``seq``, with the field at ``path`` replaced by ``raw`` JSON."""
    message = json.loads(json.dumps(good))
    message.update(event_id=make_event_id(EDGE, seq), seq=seq)
    *parents, last = path.split(".")
    node: Any = message
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    if isinstance(node, list):
        node[int(last)] = _MARK
    else:
        node[last] = _MARK
    return json.dumps(message).replace(f'"{_MARK}"', raw).encode()


def refuse_poison(engine: Engine, table: str) -> None:
    """Make the database refuse (as a check constraint would) every row of ``table``
    whose characteristic is POISON: a value the wire contract has no reason to refuse."""
    if engine.dialect.name == "postgresql":
        statements = [
            f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN IF NEW.characteristic = '{POISON}' THEN RAISE EXCEPTION"
            " 'refused by a check' USING ERRCODE = 'check_violation'; END IF;"
            " RETURN NEW; END $$",
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION refuse_{table}()",
        ]
    else:
        statements = [
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table}"
            f" WHEN NEW.characteristic = '{POISON}'"
            " BEGIN SELECT RAISE(ABORT, 'refused by a check'); END"
        ]
    with engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)

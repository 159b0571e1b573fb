"""What an edge reads from the hub (confirmations, light commands, session statuses) is
held to the same bounds as what the hub reads: a forged or broken message is refused
(the edge logs and ignores it) rather than making the edge loop or store nonsense."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from contract.wire import Confirmation, LightCommand, parse_session_status

HUGE = "1" + "0" * 30
LONG = json.dumps([[1, 1]] * 10_000)


@pytest.mark.parametrize(
    "body",
    [
        '{"confirmed": [[1, NaN]]}',
        '{"confirmed": [[1, Infinity]]}',
        f'{{"confirmed": [[1, {HUGE}]]}}',
        f'{{"rejected": [[{HUGE}, {HUGE}]]}}',
        '{"rejected": [[0, 3]]}',
        f'{{"confirmed": {LONG}}}',
        '{"confirmed": [["a\\u0000", 1]]}',
    ],
)
def test_a_broken_confirmation_is_refused(body: str) -> None:
    with pytest.raises(ValidationError):
        Confirmation.model_validate_json(body)


def test_a_confirmation_of_a_whole_batch_is_taken() -> None:
    ranges = [[seq, seq] for seq in range(1, 2001, 2)]  # a thousand ranges, a batch's most
    confirmation = Confirmation.model_validate_json(json.dumps({"confirmed": ranges}))
    assert len(confirmation.seqs()) == 1000


@pytest.mark.parametrize("session", ["NaN", "Infinity", HUGE, "-1", '"a\\u0000"'])
def test_a_session_status_out_of_bounds_is_refused(session: str) -> None:
    with pytest.raises(ValueError, match="status"):
        parse_session_status('{"status": "online", "session": ' + session + "}")


@pytest.mark.parametrize(
    "field", ['"colour": "red\\u0000"', '"flashing": NaN', '"ts": "2026-12-01T08:00:00+01:00"']
)
def test_a_broken_light_command_is_refused(field: str) -> None:
    good = {"colour": "red", "flashing": True, "buzzer": False, "state": "raised",
            "ts": "2026-12-01T08:00:00Z"}  # fmt: skip
    key = field.split(":", 1)[0].strip('"')
    body = json.dumps({k: v for k, v in good.items() if k != key})[:-1] + ", " + field + "}"
    with pytest.raises(ValidationError):
        LightCommand.model_validate_json(body)

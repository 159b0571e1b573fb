"""Each stage of the pipeline alone, and the schedule and the step plan: pure, no I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub.calls.repository import Store
from hub.config.escalation import LevelConfig, RetryConfig
from hub.config.file import HubConfig
from hub.db.engine import open_engine, upgrade
from hub.escalation import notices, pipeline
from hub.escalation.engine import EscalationEngine
from hub.escalation.links import LinkRefused, make_token, read_token
from hub.escalation.message import WORDS
from hub.escalation.schedule import levels_at, next_offset
from hub.escalation.snapshot import Snapshot
from hub.escalation.steps import plan

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday
HUB = {
    "site": "s", "call_types": ["maintenance"], "reason_codes": ["fixed"],
    "areas": [{"id": "a", "lines": [{"id": "l", "stations": [{"id": "st"}]}]}],
}  # fmt: skip
LEVELS = [
    LevelConfig(after_s=0, notify=["roster:maintenance"]),
    LevelConfig(after_s=120, notify=["person:li-wei"]),
    LevelConfig(after_s=600, notify=["json://127.0.0.1:9000/sup"], repeat_every_s=600),
]


def _snapshot(**policy: Any) -> Snapshot:
    return Snapshot.load(
        {
            "policy": {
                "id": "p", "ack_timeout_s": 300,
                "levels": [level.model_dump() for level in LEVELS], **policy,
            },
            "people": [
                {"id": "li-wei", "name": "Li Wei", "notify": ["json://h/li"]},
                {"id": "zhang-min", "language": "zh", "notify": ["json://h/zhang"]},
            ],
            "rosters": [
                {
                    "id": "maintenance", "timezone": "Asia/Shanghai",
                    "shifts": [{"members": ["li-wei"], "days": ["tue"], "start": "06:00",
                                "end": "14:00"}],
                    "fallback": ["zhang-min"],
                }
            ],
            "names": {"call_type": "Maintenance", "area": "A", "line": "Line 1", "station": "S"},
            "names_by_language": {
                "zh": {"call_type": "设备维修", "area": "总装", "line": "一号线",
                       "station": "压装"},
            },
            "public_url": "http://hub", "ack_link_ttl_s": 60,
        }
    )  # fmt: skip


def _notice(**overrides: Any) -> notices.Notice:
    values: dict[str, Any] = {
        "key": "c1:o0:l0", "call_id": 1, "alarm_group": None, "line": "line1", "level": 0,
        "step_s": 0, "targets": ("roster:maintenance",), "snapshot": _snapshot(),
        "facts": {"raised_at": NOW - timedelta(seconds=65)},
    }  # fmt: skip
    return notices.Notice(**{**values, **overrides})


def test_the_schedule_merges_levels_and_repeats_in_time_order() -> None:
    offsets, offset = [], None
    while (offset := next_offset(LEVELS, offset)) is not None and offset <= 1800:
        offsets.append(offset)
    assert offsets == [0, 120, 600, 1200, 1800]
    assert levels_at(LEVELS, 1200) == [2]
    assert next_offset(LEVELS[:2], 120) is None


def test_dedupe_drops_queued_steps_and_alarm_groups_inside_their_interval() -> None:
    ctx = pipeline.Context(
        now=NOW, queued_keys=frozenset({"c1:o0:l0"}), alarm_interval_s=600,
        last_notified={"g": NOW - timedelta(seconds=599), "h": NOW - timedelta(seconds=600)},
    )  # fmt: skip
    kept = pipeline.dedupe(
        [_notice(), _notice(key="a", alarm_group="g"), _notice(key="b", alarm_group="h")], ctx
    )
    assert [n.key for n in kept] == ["b"]


def test_inhibit_holds_back_alarms_of_a_line_down_line_but_never_calls() -> None:
    ctx = pipeline.Context(now=NOW, line_down_lines=frozenset({"line1"}))
    notices = [
        _notice(),
        _notice(key="a", alarm_group="g"),
        _notice(key="b", alarm_group="h", line="line2"),
    ]
    assert [n.key for n in pipeline.inhibit(notices, ctx)] == ["c1:o0:l0", "b"]


def test_route_asks_the_roster_at_that_moment_and_falls_back_when_nobody_is_on_shift() -> None:
    (day,) = pipeline.route([_notice()], pipeline.Context(now=NOW))  # 18:00 in Shanghai
    assert [(r.person, r.via) for r in day.recipients] == [("zhang-min", "fallback:maintenance")]
    morning = NOW - timedelta(hours=8)  # 10:00 in Shanghai: Li Wei's shift
    (shift,) = pipeline.route([_notice()], pipeline.Context(now=morning))
    assert [(r.person, r.via) for r in shift.recipients] == [("li-wei", "roster:maintenance")]


def test_route_sends_once_to_a_person_named_twice_in_a_step() -> None:
    notice = _notice(targets=("person:li-wei", "person:li-wei", "json://h/x"))
    (routed,) = pipeline.route([notice], pipeline.Context(now=NOW))
    assert [(r.person, r.url) for r in routed.recipients] == [
        ("li-wei", "json://h/li"), (None, "json://h/x"),
    ]  # fmt: skip


def test_notify_renders_what_where_how_long_the_level_and_who_else_was_told() -> None:
    ctx = pipeline.Context(now=NOW, ack_link=lambda call, who: f"http://hub/ack/{call}-{who}")
    notice = _notice(
        targets=("person:li-wei", "person:zhang-min"), facts={
            "raised_at": NOW - timedelta(seconds=65), "told_before": ("Wang Fang",),
        },
    )  # fmt: skip
    (done,) = pipeline.notify(pipeline.route([notice], ctx), ctx)
    first = done.outgoing[0].body
    assert first["title"] == "Maintenance call at S, Line 1 (A)"
    assert "open 1 min 5 s" in first["text"]
    assert "Level 0 of 2" in first["text"]
    assert first["also_told"] == ["Wang Fang", "zhang-min"]
    assert first["ack_url"] == "http://hub/ack/1-li-wei"
    assert done.outgoing[0].key != done.outgoing[1].key


def test_a_person_who_reads_chinese_gets_the_message_in_chinese_with_chinese_names() -> None:
    ctx = pipeline.Context(now=NOW, ack_link=lambda call, who: f"http://hub/ack/{call}-{who}")
    facts = {"raised_at": NOW - timedelta(seconds=3725), "told_before": ("Wang Fang",),
             "resumed": True, "acknowledged_by": "li-wei"}  # fmt: skip
    notice = _notice(targets=("person:li-wei", "person:zhang-min"), facts=facts)
    (done,) = pipeline.notify(pipeline.route([notice], ctx), ctx)
    english, chinese = (out.body for out in done.outgoing)
    assert (english["language"], chinese["language"]) == ("en", "zh")
    assert english["title"] == "Maintenance call at S, Line 1 (A)"
    assert chinese["title"] == "总装 一号线 压装：设备维修呼叫"
    assert (chinese["station"], chinese["call_type"]) == ("压装", "设备维修")
    assert "已等待1小时2分" in chinese["text"]
    assert "升级级别 0（最高 2" in chinese["text"]
    assert "300 秒内无人到场" in chinese["text"]
    assert "已同时通知：Wang Fang、Li Wei" in chinese["text"]
    assert "点击响应：http://hub/ack/1-zhang-min" in chinese["text"]
    # No English of our own: the names, the policy's id and the link are all the Latin left.
    rest = chinese["text"]
    for data in ("http://hub/ack/1-zhang-min", "Wang Fang", "Li Wei", "li-wei", "策略 p"):
        rest = rest.replace(data, "")
    assert re.findall("[A-Za-z]+", rest) == []


def test_an_spc_alarm_names_its_tests_in_the_persons_language() -> None:
    ctx = pipeline.Context(now=NOW)
    facts = {"raised_at": NOW - timedelta(seconds=45), "characteristic": "bore", "count": 3,
             "tests": ["1", "5"]}  # fmt: skip
    notice = _notice(
        targets=("person:li-wei", "person:zhang-min"), alarm_group="g", call_id=None, facts=facts
    )
    (done,) = pipeline.notify(pipeline.route([notice], ctx), ctx)
    english, chinese = (out.body["text"] for out in done.outgoing)
    assert english.startswith("3 out-of-control point(s) of bore (test 1, test 5) at S, Line 1")
    assert "since 45 s ago" in english
    assert chinese.startswith("总装 一号线 压装的 bore 有 3 个失控点（准则 1、准则 5），")
    assert "始于45秒前。" in chinese


def test_retry_backs_off_capped_and_gives_up_after_the_attempts() -> None:
    ctx = pipeline.Context(now=NOW, retry=RetryConfig(initial_s=1, cap_s=4, attempts=3))
    recipient = notices.Recipient("li-wei", "Li Wei", "json://h/li", "person")
    delays = []
    for attempt in (1, 2):
        failed = notices.Outgoing("k", attempt, recipient, {}, error="HTTP 500")
        (done,) = pipeline.retry([_notice(outgoing=(failed,))], ctx)
        (again,) = done.outgoing
        assert (again.attempt, again.gave_up) == (attempt + 1, False)
        assert again.retry_at is not None
        delays.append((again.retry_at - NOW).total_seconds())
    assert 0.5 <= delays[0] <= 1
    assert 1 <= delays[1] <= 2
    last = notices.Outgoing("k", 3, recipient, {}, error="HTTP 500")
    (done,) = pipeline.retry([_notice(outgoing=(last,))], ctx)
    assert done.outgoing[0].gave_up


def test_plan_pauses_an_acknowledged_call_and_resumes_it_at_the_next_level() -> None:
    row = {
        "state": "acknowledged", "last_offset_s": 0, "base_at": NOW, "resumed": False,
        "status": "active", "acknowledged_at": NOW + timedelta(seconds=30),
        "ack_timeout_s": 300,
    }  # fmt: skip
    paused = plan(row, LEVELS, NOW + timedelta(seconds=120))
    assert paused.fire is None
    assert paused.values == {"status": "ack_wait", "due_at": NOW + timedelta(seconds=330)}
    later = NOW + timedelta(seconds=330)
    resumed = plan({**row, "status": "ack_wait"}, LEVELS, later)
    assert (resumed.fire, resumed.resumed) == (120, True)
    assert resumed.values["due_at"] == later + timedelta(seconds=480)


def test_plan_sends_missed_repeats_once_and_stops_a_closed_call() -> None:
    row = {"state": "raised", "last_offset_s": 600, "base_at": NOW, "resumed": False,
           "status": "active"}  # fmt: skip
    after_outage = plan(row, LEVELS, NOW + timedelta(seconds=3000))
    assert after_outage.fire == 3000  # 1200, 1800, 2400 were missed: sent once, as the last
    closed = plan({**row, "state": "cancelled"}, LEVELS, NOW)
    assert (closed.fire, closed.values["status"]) == (None, "stopped")


def test_an_ack_token_refuses_a_changed_byte_another_key_and_expiry() -> None:
    key = b"k" * 32
    token = make_token(key, call_id=7, person="li-wei", expires_at=NOW + timedelta(seconds=60))
    assert read_token(key, token, now=NOW).person == "li-wei"
    with pytest.raises(LinkRefused, match="not valid"):
        read_token(b"x" * 32, token, now=NOW)
    with pytest.raises(LinkRefused, match="expired"):
        read_token(key, token, now=NOW + timedelta(seconds=60))


def test_a_pass_after_a_full_batch_with_nothing_left_due_stops_asking_for_more(
    tmp_path: Path,
) -> None:
    """The pass that found a full batch asked for another; the next, finding nothing due,
    must not keep asking (the engine would spin without waiting)."""
    engine = open_engine(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    upgrade(engine)
    store = Store(engine)
    escalation = EscalationEngine(store=store, config=lambda: HubConfig.model_validate(HUB))
    escalation.more = True
    assert escalation.tick(NOW) == []
    assert escalation.more is False
    engine.dispose()


def test_every_sentence_of_a_message_is_in_both_languages() -> None:
    assert set(WORDS["en"]) == set(WORDS["zh"])
    assert all(WORDS["zh"].values())

"""``andon escalation explain``: the dry run, through the real command and in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.secrets import redact_url
from hub.config.escalation import LevelConfig
from hub.config.file import HubConfig, load_hub_config
from hub.escalation.explain import REPEAT_HORIZON_S, explain, level_offsets

EXAMPLE = (
    Path(__file__).parents[2] / "andon" / "config_cases" / "escalation_example" / "config.yaml"
)


def run_explain(*args: str, config: Path = EXAMPLE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "andon.cli",
            "escalation",
            "explain",
            "--config",
            str(config),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DINGTALK_TOKEN": "the-real-token"},
    )


def explain_json(at: str, *, config: Path = EXAMPLE, call_type: str = "maintenance") -> Any:
    result = run_explain(
        "--line",
        "line1",
        "--station",
        "st10",
        "--call-type",
        call_type,
        "--at",
        at,
        "--json",
        config=config,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_issue_example_on_a_weekday_morning_reaches_the_day_shift_first() -> None:
    answer = explain_json("2026-12-01T09:30")  # a Tuesday, Shanghai time
    assert answer["policy"] == "maintenance-calls"
    assert [step["after_s"] for step in answer["steps"]] == [0, 120, *range(600, 3601, 600)]
    assert answer["steps"][0]["targets"] == [
        {"person": "li-wei", "url": "dingtalk://***/", "via": "roster:maintenance"},
        {"person": "li-wei", "url": "mailto://li.wei@example.com", "via": "roster:maintenance"},
    ]
    assert answer["steps"][1]["targets"] == [
        {"person": "li-wei", "url": "dingtalk://***/", "via": "person"},
        {"person": "li-wei", "url": "mailto://li.wei@example.com", "via": "person"},
        {"person": "zhang-min", "url": "json://127.0.0.1:9000/zhang", "via": "person"},
    ]
    assert answer["steps"][2]["targets"] == [
        {"person": None, "url": "json://127.0.0.1:9000/supervisor", "via": "url"}
    ]


def test_on_a_saturday_nobody_is_on_shift_and_the_fallback_is_told() -> None:
    answer = explain_json("2026-12-05T10:00")
    assert answer["steps"][0]["targets"] == [
        {"person": "zhang-min", "url": "json://127.0.0.1:9000/zhang", "via": "fallback"}
    ]


def test_a_time_with_an_offset_is_that_moment_whatever_the_roster_zone() -> None:
    # 22:30 UTC on Monday is 06:30 on Tuesday in Shanghai: the day shift.
    assert explain_json("2026-11-30T22:30Z") == explain_json("2026-12-01T06:30")
    assert explain_json("2026-11-30T22:30Z")["steps"][0]["targets"][0]["person"] == "li-wei"


def test_the_plain_dry_run_says_why_and_never_shows_a_secret() -> None:
    result = run_explain(
        "--line",
        "line1",
        "--station",
        "st10",
        "--call-type",
        "maintenance",
        "--at",
        "2026-12-01T09:30",
    )
    assert result.returncode == 0
    assert "the-real-token" not in result.stdout
    assert "DINGTALK_TOKEN" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "policy 'maintenance-calls' for a maintenance call at line1/st10, "
        "raised 2026-12-01T09:30:00+08:00"
    )
    assert lines[1:5] == [
        "+0s (2026-12-01T09:30:00+08:00)",
        "  li-wei via roster:maintenance: on shift in roster maintenance at Tue 09:30 "
        "Asia/Shanghai: shifts[0] (mon,tue,wed,thu,fri 06:00-14:00)",
        "    dingtalk://***/",
        "    mailto://li.wei@example.com",
    ]
    assert lines[-1] == f"(repeating levels are listed up to +{REPEAT_HORIZON_S}s)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--line", "line9", "--station", "st10", "--call-type", "maintenance"],
            "unknown line 'line9'; expected one of: line1",
        ),
        (
            ["--line", "line1", "--station", "st99", "--call-type", "maintenance"],
            "unknown station 'st99' on line 'line1'; expected one of: st10, st20",
        ),
        (
            ["--line", "line1", "--station", "st10", "--call-type", "lunch"],
            "unknown call type 'lunch'; expected one of: maintenance, quality",
        ),
        (
            ["--line", "line1", "--station", "st10", "--call-type", "quality"],
            "no escalation policy matches a 'quality' call on line 'line1': nobody would be told",
        ),
    ],
)
def test_an_unanswerable_question_exits_1_saying_why(args: list[str], message: str) -> None:
    result = run_explain(*args, "--at", "2026-12-01T09:30")
    assert result.returncode == 1
    assert result.stderr == f"{EXAMPLE}: {message}\n"
    assert result.stdout == ""


def test_a_time_that_is_not_iso_8601_exits_1() -> None:
    result = run_explain(
        "--line", "line1", "--station", "st10", "--call-type", "maintenance", "--at", "tuesday"
    )
    assert result.returncode == 1
    assert "--at: expected an ISO 8601 time such as 2026-12-01T09:30; got 'tuesday'" in (
        result.stderr
    )


def example_with(policy: dict[str, Any], tmp_path: Path) -> Path:
    data = yaml.safe_load(EXAMPLE.read_text())
    data["escalation"]["policies"] = [policy]
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_policy_without_rosters_reads_a_time_without_offset_as_utc(tmp_path: Path) -> None:
    config = example_with(
        {
            "id": "plain",
            "ack_timeout_s": 60,
            "levels": [{"after_s": 0, "notify": ["json://ops:{env:PW}@10.0.0.5/hook?key=abc"]}],
        },
        tmp_path,
    )
    result = run_explain(
        "--line",
        "line1",
        "--station",
        "st10",
        "--call-type",
        "quality",
        "--at",
        "2026-12-01T09:30",
        config=config,
    )
    assert result.stdout.splitlines()[0].endswith("raised 2026-12-01T09:30:00+00:00")
    assert "    json://ops:***@10.0.0.5/hook?key=***" in result.stdout.splitlines()


def test_each_step_asks_the_roster_at_its_own_moment(tmp_path: Path) -> None:
    policy = {
        "id": "twice",
        "ack_timeout_s": 60,
        "levels": [
            {"after_s": 0, "notify": ["roster:maintenance"]},
            {"after_s": 1800, "notify": ["roster:maintenance"]},
        ],
    }
    config = load_hub_config(example_with(policy, tmp_path))
    at = datetime(2026, 12, 1, 5, 40, tzinfo=UTC)  # Tuesday 13:40 in Shanghai
    steps = explain(config.escalation.policies[0], config, at).steps  # type: ignore[union-attr]
    assert [(t.person, t.via) for t in steps[0].targets] == [
        ("li-wei", "roster:maintenance"),
        ("li-wei", "roster:maintenance"),
    ]
    # 14:10: the day shift is over, the night shift has not begun.
    assert [(t.person, t.via) for t in steps[1].targets] == [("zhang-min", "fallback")]


def test_a_local_time_is_ambiguous_across_rosters_in_two_zones(tmp_path: Path) -> None:
    data = yaml.safe_load(EXAMPLE.read_text())
    berlin = {**data["rosters"][0], "id": "berlin", "timezone": "Europe/Berlin"}
    data["rosters"].append(berlin)
    data["escalation"]["policies"][0]["levels"][1]["notify"] = ["roster:berlin"]
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(data))
    result = run_explain(
        "--line",
        "line1",
        "--station",
        "st10",
        "--call-type",
        "maintenance",
        "--at",
        "2026-12-01T09:30",
        config=path,
    )
    assert result.returncode == 1
    assert "several time zones (Asia/Shanghai, Europe/Berlin); add an offset" in result.stderr


def test_repeats_are_listed_to_the_horizon_and_a_late_level_once() -> None:
    assert level_offsets(LevelConfig(after_s=600, notify=["json://h/"], repeat_every_s=1500)) == [
        600,
        2100,
        3600,
    ]
    late = LevelConfig(after_s=7200, notify=["json://h/"], repeat_every_s=600)
    assert level_offsets(late) == [7200]
    assert level_offsets(LevelConfig(after_s=30, notify=["json://h/"])) == [30]


def test_levels_at_the_same_offset_are_one_step() -> None:
    config = HubConfig.model_validate(
        {
            **yaml.safe_load(EXAMPLE.read_text()),
            "escalation": {
                "policies": [
                    {
                        "id": "p",
                        "ack_timeout_s": 60,
                        "levels": [
                            {"after_s": 0, "notify": ["json://a/"], "repeat_every_s": 600},
                            {"after_s": 600, "notify": ["json://b/"]},
                        ],
                    }
                ]
            },
        }
    )
    steps = explain(config.escalation.policies[0], config, datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[union-attr]
    assert [t.url for t in steps.steps[1].targets] == ["json://a/", "json://b/"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("dingtalk://{env:DINGTALK_TOKEN}/", "dingtalk://***/"),
        ("dingtalk://my-secret@my-token/", "dingtalk://***@my-token/"),
        ("mailto://li.wei@example.com", "mailto://li.wei@example.com"),
        ("mailtos://bot:hunter2@smtp.example.com", "mailtos://bot:***@smtp.example.com"),
        ("ntfy://u:{file:/etc/andon/ntfy}@ntfy.lan/line1", "ntfy://u:***@ntfy.lan/line1"),
        ("json://10.0.0.5/hook?token=abc&x=1", "json://10.0.0.5/hook?token=***&x=***"),
        ("json://127.0.0.1:9000/supervisor", "json://127.0.0.1:9000/supervisor"),
    ],
)
def test_urls_are_shown_without_their_secrets(url: str, shown: str) -> None:
    assert redact_url(url) == shown

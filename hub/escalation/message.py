"""What a notification says: what, where, how long, which level, who else was told, and
the link that acknowledges the call. One structured body; channels that carry text get
its ``title`` and ``text``, in the language of the person told (``people[].language``
in the hub's file; English for a URL named as is, or a person without one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.escalation.notices import Notice, Recipient

# Every sentence of a message, per language; ``{name}`` places are filled in by render.
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "where": "{station}, {line} ({area})",
        "call_title": "{call_type} call at {where}",
        "call_open": "{call_type} call at {where}, open {age}.",
        "level": "Level {level} of {last} (policy {policy}).",
        "alarm_title": "SPC alarm: {characteristic} at {where}",
        "alarm_text": "{count} out-of-control point(s) of {characteristic} ({tests}) at {where} "
        "since {age} ago.",
        "test": "test {number}",
        "resumed": "Acknowledged by {who}, but nobody arrived within {timeout_s} s: "
        "escalation resumes.",
        "someone": "someone",
        "also_told": "Also told: {others}.",
        "nobody_else": "Nobody else told yet.",
        "acknowledge": "Acknowledge: {url}",
        "and": ", ",
        "hours": "{h} h {m} min",
        "minutes": "{m} min {s} s",
        "seconds": "{s} s",
    },
    "zh": {
        "where": "{area} {line} {station}",
        "call_title": "{where}：{call_type}呼叫",
        "call_open": "{where}的{call_type}呼叫，已等待{age}。",
        "level": "升级级别 {level}（最高 {last}，策略 {policy}）。",
        "alarm_title": "SPC 报警：{where} {characteristic}",
        "alarm_text": "{where}的 {characteristic} 有 {count} 个失控点（{tests}），始于{age}前。",
        "test": "准则 {number}",
        "resumed": "{who} 已响应，但 {timeout_s} 秒内无人到场：继续升级通知。",
        "someone": "有人",
        "also_told": "已同时通知：{others}。",
        "nobody_else": "尚未通知其他人。",
        "acknowledge": "点击响应：{url}",
        "and": "、",
        "hours": "{h}小时{m}分",
        "minutes": "{m}分{s}秒",
        "seconds": "{s}秒",
    },
}


def age_text(seconds: float, language: str = "en") -> str:
    """``45 s``, ``2 min 5 s``, ``1 h 3 min`` (``45秒``, ``2分5秒``, ``1小时3分``): how long
    a call has been open."""
    words = WORDS[language]
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return words["hours"].format(h=hours, m=minutes)
    if minutes:
        return words["minutes"].format(m=minutes, s=secs)
    return words["seconds"].format(s=secs)


def language_of(notice: Notice, recipient: Recipient) -> str:
    """The language of the person told, else English."""
    snapshot = notice.snapshot
    person = snapshot.people.get(recipient.person or "") if snapshot is not None else None
    return (person.language if person is not None else None) or "en"


def _lines(notice: Notice, language: str, others: list[str], age_s: float) -> tuple[str, list[str]]:
    """The title and the text's lines (less the link) in ``language``."""
    snapshot = notice.snapshot
    assert snapshot is not None
    words = WORDS[language]
    names = snapshot.names_in(language)
    facts = notice.facts
    age = age_text(age_s, language)
    where = words["where"].format(**names)
    if notice.alarm_group is not None:
        tests = words["and"].join(words["test"].format(number=n) for n in facts["tests"])
        characteristic = facts["characteristic"]
        title = words["alarm_title"].format(characteristic=characteristic, where=where)
        lines = [
            words["alarm_text"].format(
                count=facts["count"], characteristic=characteristic, tests=tests, where=where,
                age=age,
            )
        ]  # fmt: skip
    else:
        title = words["call_title"].format(call_type=names["call_type"], where=where)
        last = len(snapshot.policy.levels) - 1
        lines = [
            words["call_open"].format(call_type=names["call_type"], where=where, age=age),
            words["level"].format(level=notice.level, last=last, policy=snapshot.policy.id),
        ]
    if facts.get("resumed"):
        who = facts.get("acknowledged_by") or words["someone"]
        lines.append(words["resumed"].format(who=who, timeout_s=snapshot.policy.ack_timeout_s))
    if facts.get("reason"):
        lines.append(str(facts["reason"]))
    told = words["also_told"].format(others=words["and"].join(others))
    lines.append(told if others else words["nobody_else"])
    return title, lines


def render(
    notice: Notice,
    *,
    recipient: Recipient,
    others: list[str],
    ack_url: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The message for ``recipient``; ``others`` are the other people told about the call."""
    snapshot = notice.snapshot
    assert snapshot is not None
    language = language_of(notice, recipient)
    raised_at: datetime = notice.facts["raised_at"]
    age_s = (now - raised_at).total_seconds()
    title, lines = _lines(notice, language, others, age_s)
    if ack_url:
        lines.append(WORDS[language]["acknowledge"].format(url=ack_url))
    names = snapshot.names_in(language)
    return {
        "kind": "alarm" if notice.alarm_group is not None else "call",
        "call_id": notice.call_id,
        "alarm_group": notice.alarm_group,
        "call_type": names["call_type"],
        "area": names["area"],
        "line": names["line"],
        "station": names["station"],
        "age_s": round(age_s, 3),
        "level": notice.level,
        "step_s": notice.step_s,
        "resumed": bool(notice.facts.get("resumed")),
        "person": recipient.person,
        "via": recipient.via,
        "also_told": others,
        "ack_url": ack_url,
        "language": language,
        "title": title,
        "text": "\n".join(lines),
    }

"""What a notification says: what, where, how long, which level, who else was told, and
the link that acknowledges the call. One structured body; channels that carry text get
its ``title`` and ``text``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hub.escalation.notices import Notice, Recipient


def age_text(seconds: float) -> str:
    """``45 s``, ``2 min 5 s``, ``1 h 3 min``: how long a call has been open."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


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
    names = snapshot.names
    facts = notice.facts
    raised_at: datetime = facts["raised_at"]
    age_s = (now - raised_at).total_seconds()
    where = f"{names['station']}, {names['line']} ({names['area']})"
    levels = len(snapshot.policy.levels)
    if notice.alarm_group is not None:
        title = f"SPC alarm: {facts['characteristic']} at {where}"
        lines = [
            f"{facts['count']} out-of-control point(s) of {facts['characteristic']} "
            f"({', '.join(facts['tests'])}) at {where} since {age_text(age_s)} ago."
        ]
    else:
        title = f"{names['call_type']} call at {where}"
        lines = [
            f"{names['call_type']} call at {where}, open {age_text(age_s)}.",
            f"Level {notice.level} of {levels - 1} (policy {snapshot.policy.id}).",
        ]
    if facts.get("resumed"):
        lines.append(
            f"Acknowledged by {facts.get('acknowledged_by') or 'someone'}, but nobody arrived "
            f"within {snapshot.policy.ack_timeout_s} s: escalation resumes."
        )
    if facts.get("reason"):
        lines.append(str(facts["reason"]))
    lines.append(f"Also told: {', '.join(others)}." if others else "Nobody else told yet.")
    if ack_url:
        lines.append(f"Acknowledge: {ack_url}")
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
        "resumed": bool(facts.get("resumed")),
        "person": recipient.person,
        "via": recipient.via,
        "also_told": others,
        "ack_url": ack_url,
        "title": title,
        "text": "\n".join(lines),
    }

"""What escalation sends: a notice (a step of a call's escalation, or an SPC alarm group),
the recipients it is routed to, and each attempt to send it. The pipeline's stages
(``pipeline.py``) pass notices along; ``message.py`` says what a notice tells a recipient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.escalation.snapshot import Snapshot


@dataclass(frozen=True)
class Recipient:
    """One channel of one person (or a URL named as is) that a notice goes to."""

    person: str | None
    name: str  # the person's name, or the redacted URL
    url: str  # as configured: secret references unresolved
    via: str  # person, roster:ID, fallback or url


@dataclass(frozen=True)
class Outgoing:
    """One attempt to send one message through one channel."""

    key: str  # the same for every attempt: the channel's idempotency key
    attempt: int
    recipient: Recipient
    body: dict[str, Any]
    error: str | None = None  # set when the attempt failed
    retry_at: datetime | None = None
    gave_up: bool = False


@dataclass(frozen=True)
class Notice:
    """A step of a call's escalation (or an SPC alarm group) that may need sending."""

    key: str
    call_id: int | None
    alarm_group: str | None
    line: str
    level: int
    step_s: int
    targets: tuple[str, ...]
    snapshot: Snapshot | None  # None for a retry, which needs only its attempts
    facts: Mapping[str, Any]  # raised_at, resumed, acknowledged_by, told_before, ...
    recipients: tuple[Recipient, ...] = ()
    outgoing: tuple[Outgoing, ...] = ()

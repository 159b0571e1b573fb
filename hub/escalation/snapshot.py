"""A call's policy frozen when it is raised: the policy, the people and rosters it names,
and the names of where the call is, so a reload changes only the calls raised after it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.config.escalation import LevelConfig, PersonConfig, PolicyConfig, RosterConfig
from hub.config.file import HubConfig

SnapshotFor = Callable[[str, str, str, str], dict[str, Any] | None]
"""(call type, area, line, station) -> the snapshot to escalate with, or None."""

FALLBACK_POLICY_ID = "fallback"
# Calls the hub raises itself (an edge offline, a channel that keeps failing) go to the
# rosters' fallbacks; escalation resumes after this long if nobody arrives.
SYSTEM_ACK_TIMEOUT_S = 600
# The languages besides English a person may read their messages in (hub.config.Language).
TRANSLATED = ("zh",)


@dataclass(frozen=True)
class Snapshot:
    """The parsed form of a stored snapshot."""

    policy: PolicyConfig
    people: dict[str, PersonConfig]
    rosters: dict[str, RosterConfig]
    names: dict[str, str]  # area, line, station, call_type -> how people call them
    public_url: str
    ack_link_ttl_s: int
    # The same names in other languages (``zh``); a snapshot taken before the hub knew
    # them has none, and its messages use ``names``.
    names_by_language: dict[str, dict[str, str]] = field(default_factory=dict)

    def names_in(self, language: str) -> dict[str, str]:
        """The names in ``language``, else as ``names`` has them."""
        return self.names_by_language.get(language, self.names)

    @classmethod
    def load(cls, data: dict[str, Any]) -> Snapshot:
        return cls(
            policy=PolicyConfig.model_validate(data["policy"]),
            people={p["id"]: PersonConfig.model_validate(p) for p in data["people"]},
            rosters={r["id"]: RosterConfig.model_validate(r) for r in data["rosters"]},
            names=dict(data["names"]),
            public_url=str(data["public_url"]),
            ack_link_ttl_s=int(data["ack_link_ttl_s"]),
            names_by_language={
                language: dict(names)
                for language, names in data.get("names_by_language", {}).items()
            },
        )


def public_url(config: HubConfig) -> str:
    escalation = config.escalation
    if escalation is not None and escalation.public_url:
        return escalation.public_url.rstrip("/")
    return f"http://{config.api.host}:{config.api.port}"


def names_of(
    config: HubConfig,
    *,
    call_type: str,
    area: str,
    line: str,
    station: str,
    language: str = "en",
) -> dict[str, str]:
    """The configured display names in ``language`` (``names.zh``, else ``name``, else
    the id)."""
    names = {"call_type": call_type, "area": area, "line": line, "station": station}
    kind = config.call_type(call_type)
    if kind is not None:
        names["call_type"] = kind.label(language)
    for a in config.areas:
        if a.id != area:
            continue
        names["area"] = a.label(language)
        for li in a.lines:
            if li.id == line:
                names["line"] = li.label(language)
                found = next((s for s in li.stations if s.id == station), None)
                names["station"] = found.label(language) if found else station
    return names


def take_snapshot(
    config: HubConfig,
    policy: PolicyConfig,
    names: dict[str, str],
    names_by_language: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Everything needed to escalate with ``policy`` later, whatever the file says then."""
    rosters = [r for r in config.rosters if _names(policy, "roster", r.id)]
    wanted = {m for r in rosters for s in r.shifts for m in s.members}
    wanted |= {m for r in rosters for m in r.fallback}
    wanted |= {p.id for p in config.people if _names(policy, "person", p.id)}
    escalation = config.escalation
    return {
        "policy": policy.model_dump(mode="json"),
        "people": [p.model_dump(mode="json") for p in config.people if p.id in wanted],
        "rosters": [r.model_dump(mode="json") for r in rosters],
        "names": names,
        "names_by_language": names_by_language or {},
        "public_url": public_url(config),
        "ack_link_ttl_s": escalation.ack_link_ttl_s if escalation else 86_400,
    }


def _names(policy: PolicyConfig, kind: str, name: str) -> bool:
    wanted = {f"{kind}:{name}", f"fallback:{name}"}
    return any(t in wanted for level in policy.levels for t in level.notify)


def snapshots_from(config: HubConfig) -> SnapshotFor:
    """The snapshot of the first policy that matches a call, under ``config``."""

    def snapshot_for(call_type: str, area: str, line: str, station: str) -> dict[str, Any] | None:
        if config.escalation is None:
            return None
        policy = config.escalation.policy_for(call_type=call_type, line=line)
        if policy is None:
            return None
        where = {"call_type": call_type, "area": area, "line": line, "station": station}
        names = names_of(config, **where)
        translated = {code: names_of(config, **where, language=code) for code in TRANSLATED}
        return take_snapshot(config, policy, names, translated)

    return snapshot_for


def fallback_snapshot(
    config: HubConfig,
    names: dict[str, str],
    rosters: list[str] | None = None,
    names_by_language: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any] | None:
    """A one-level policy that tells the fallback of ``rosters`` (default: every roster)."""
    chosen = rosters or [r.id for r in config.rosters]
    if not chosen:
        return None
    policy = PolicyConfig.model_construct(
        id=FALLBACK_POLICY_ID,
        ack_timeout_s=SYSTEM_ACK_TIMEOUT_S,
        line_stop_after_s=None,
        levels=[
            LevelConfig.model_construct(
                after_s=0, notify=[f"fallback:{r}" for r in chosen], repeat_every_s=None
            )
        ],
    )
    return take_snapshot(config, policy, names, names_by_language)

"""Who may do what: roles, the permission each endpoint needs, and the table between them.

The table is the one place that decides; docs/access.md shows the same table, and a
test walks every endpoint with every role.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # read: the board, calls, edges
    STATION = "station"  # a station's panel: raise, cancel, confirm arrival, verify
    RESPONDER = "responder"  # acknowledge, arrive, resolve
    ENGINEER = "engineer"  # rules and configuration
    ADMIN = "admin"  # tokens, audit, and everything else


class Permission(StrEnum):
    READ = "read"
    RAISE = "raise"
    ACKNOWLEDGE = "acknowledge"
    ARRIVE = "arrive"
    RESOLVE = "resolve"
    VERIFY = "verify"
    CANCEL = "cancel"
    PHOTOGRAPH = "photograph"  # attach a photo to a call
    RELOAD = "reload"
    AUDIT = "audit"
    TOKENS = "tokens"
    OVERRIDE = "override"  # roster overrides: who covers whom (a team leader's)
    ACCOUNTS = "accounts"
    DOWNTIME_REASON = "downtime_reason"


_EVERYONE = frozenset(Role)

ALLOWED: dict[Permission, frozenset[Role]] = {
    Permission.READ: _EVERYONE,
    Permission.RAISE: frozenset({Role.STATION, Role.ADMIN}),
    Permission.ACKNOWLEDGE: frozenset({Role.RESPONDER, Role.ADMIN}),
    Permission.ARRIVE: frozenset({Role.STATION, Role.RESPONDER, Role.ADMIN}),
    Permission.RESOLVE: frozenset({Role.RESPONDER, Role.ADMIN}),
    Permission.VERIFY: frozenset({Role.STATION, Role.ADMIN}),
    Permission.CANCEL: frozenset({Role.STATION, Role.RESPONDER, Role.ADMIN}),
    Permission.PHOTOGRAPH: frozenset({Role.STATION, Role.RESPONDER, Role.ENGINEER, Role.ADMIN}),
    Permission.RELOAD: frozenset({Role.ENGINEER, Role.ADMIN}),
    Permission.AUDIT: frozenset({Role.ADMIN}),
    Permission.TOKENS: frozenset({Role.ADMIN}),
    Permission.OVERRIDE: frozenset({Role.ENGINEER, Role.ADMIN}),
    Permission.ACCOUNTS: frozenset({Role.ADMIN}),
    Permission.DOWNTIME_REASON: frozenset({Role.RESPONDER, Role.ENGINEER, Role.ADMIN}),
}

# The permission of each lifecycle action of the API.
ACTION_PERMISSION: dict[str, Permission] = {
    "acknowledge": Permission.ACKNOWLEDGE,
    "arrive": Permission.ARRIVE,
    "resolve": Permission.RESOLVE,
    "verify": Permission.VERIFY,
    "cancel": Permission.CANCEL,
}


# Roles whose work is about lines, so a token of theirs may be limited to some; the
# others (configuration, tokens, audit) are the whole site's by nature.
LINE_ROLES = frozenset({Role.VIEWER, Role.STATION, Role.RESPONDER})


def allows(role: Role, permission: Permission) -> bool:
    return role in ALLOWED[permission]


# Every API route and the permission it needs: the one table docs/access.md shows.
# /healthz is open; /metrics is open on loopback (or with api.metrics_token).
ENDPOINTS: list[tuple[str, str, Permission]] = [
    ("GET", "/api/calls", Permission.READ),
    ("POST", "/api/calls", Permission.RAISE),
    ("GET", "/api/calls/{call_id}", Permission.READ),
    ("GET", "/api/calls/{call_id}/notifications", Permission.READ),
    ("POST", "/api/calls/{call_id}/acknowledge", Permission.ACKNOWLEDGE),
    ("POST", "/api/calls/{call_id}/arrive", Permission.ARRIVE),
    ("POST", "/api/calls/{call_id}/resolve", Permission.RESOLVE),
    ("POST", "/api/calls/{call_id}/verify", Permission.VERIFY),
    ("POST", "/api/calls/{call_id}/cancel", Permission.CANCEL),
    ("GET", "/api/calls/{call_id}/suggestions", Permission.READ),
    ("GET", "/api/calls/{call_id}/photos", Permission.READ),
    ("POST", "/api/calls/{call_id}/photos", Permission.PHOTOGRAPH),
    ("GET", "/api/calls/{call_id}/photos/{photo_id}", Permission.READ),
    ("GET", "/api/board", Permission.READ),
    ("GET", "/api/board/events", Permission.READ),
    ("GET", "/api/reports/summary", Permission.READ),
    ("GET", "/api/reports/calls", Permission.READ),
    ("GET", "/api/reports/quality", Permission.READ),
    ("GET", "/api/reports/trends", Permission.READ),
    ("GET", "/api/reports/recurrences", Permission.READ),
    ("GET", "/api/reports/oee", Permission.READ),
    ("GET", "/api/downtime", Permission.READ),
    ("POST", "/api/downtime/{period_id}/reason", Permission.DOWNTIME_REASON),
    ("GET", "/api/machines", Permission.READ),
    ("GET", "/api/edges", Permission.READ),
    ("GET", "/api/token", Permission.READ),
    ("GET", "/api/anomalies", Permission.READ),
    ("POST", "/api/anomalies/{anomaly_id}/call", Permission.RAISE),
    ("GET", "/api/devices", Permission.READ),
    ("GET", "/api/characteristics", Permission.READ),
    ("GET", "/api/characteristics/{name}/points", Permission.READ),
    ("GET", "/api/characteristics/{name}/events", Permission.READ),
    ("GET", "/api/quality/counts", Permission.READ),
    ("POST", "/api/admin/reload", Permission.RELOAD),
    ("GET", "/api/admin/config", Permission.RELOAD),
    ("GET", "/api/audit", Permission.AUDIT),
    ("GET", "/api/dead-letters", Permission.AUDIT),
    ("GET", "/api/admin/tokens", Permission.TOKENS),
    ("POST", "/api/admin/tokens", Permission.TOKENS),
    ("DELETE", "/api/admin/tokens/{name}", Permission.TOKENS),
    ("GET", "/api/roster-overrides", Permission.READ),
    ("POST", "/api/roster-overrides", Permission.OVERRIDE),
    ("DELETE", "/api/roster-overrides/{override_id}", Permission.OVERRIDE),
    ("POST", "/api/logout", Permission.READ),
    ("GET", "/api/admin/users", Permission.ACCOUNTS),
    ("POST", "/api/admin/users", Permission.ACCOUNTS),
    ("POST", "/api/admin/users/{name}/password", Permission.ACCOUNTS),
    ("POST", "/api/admin/users/{name}/disable", Permission.ACCOUNTS),
]

# Routes open without a token, because what they carry is their own proof: a signed,
# expiring, one-use acknowledgement link (hub/escalation/links.py), or a name and password.
PUBLIC: list[tuple[str, str]] = [
    ("GET", "/ack/{token}"),
    ("POST", "/ack/{token}"),
    ("POST", "/api/login"),
]

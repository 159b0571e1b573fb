"""The ``auth:`` section of the hub's file: sign-in sessions, the slowing down of failed
sign-ins, the plant's directory (LDAP) and the badges scanned at stations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from contract.config.loading import Problem
from contract.config.models import Strict
from contract.wire import Name

RoleName = Literal["viewer", "station", "responder", "engineer", "admin"]
# The roles whose work is about lines (hub/access/permissions.py's LINE_ROLES).
LINE_ROLE_NAMES = frozenset({"viewer", "station", "responder"})


class DirectoryGroupConfig(Strict):
    """Members of the group ``dn`` sign in with ``role``, limited to ``lines`` ([]: all)."""

    dn: str = Field(min_length=1, max_length=1000)
    role: RoleName
    lines: list[Name] = Field(default_factory=list)


class LdapConfig(Strict):
    """The plant's directory: a service account searches for the user, the user's own bind
    checks the password, and each mapped group is searched for the user's DN."""

    url: str = Field(pattern=r"^ldaps?://[^\s/]+/?$", description="ldap://host:389 or ldaps://")
    start_tls: bool = False
    bind_dn: str = Field(min_length=1, max_length=1000)
    bind_password: str = Field(description='"{env:NAME}" or "{file:PATH}"')
    user_base: str = Field(min_length=1, max_length=1000)
    user_filter: str = Field(
        default="(uid={username})", pattern=r"^\(.*\{username\}.*\)$",
        description="(sAMAccountName={username}) for Active Directory",
    )  # fmt: skip
    groups: list[DirectoryGroupConfig] = Field(min_length=1, description="first match wins")
    timeout_s: int = Field(default=5, ge=1, le=60, description="seconds, per request")


class FailedSignInConfig(Strict):
    """After ``free`` failures for one name or one address within ``window_s``, each
    further attempt waits ``delay_s``, doubled per failure up to ``max_delay_s``: slowed
    down, never locked out (a lock-out is a weapon against a responder in an incident)."""

    free: int = Field(default=3, ge=0, le=1000)
    delay_s: float = Field(default=1.0, ge=0, le=60)
    max_delay_s: float = Field(default=10.0, ge=0, le=300)
    window_s: float = Field(default=900.0, gt=0, le=86_400)


class AuthConfig(Strict):
    session_hours: float = Field(default=12.0, gt=0, le=24 * 31, description="one shift")
    failed_sign_ins: FailedSignInConfig = FailedSignInConfig()
    ldap: LdapConfig | None = None
    badges: dict[str, Name] = Field(
        default_factory=dict,
        description="badge number -> account name, for badges scanned at a station",
    )


def auth_problems(auth: AuthConfig, lines: set[str]) -> list[Problem]:
    """Directory groups of unknown lines, or of a site-wide role limited to lines."""
    problems: list[Problem] = []
    for i, group in enumerate(auth.ldap.groups if auth.ldap else []):
        where = ("auth", "ldap", "groups", i, "lines")
        if group.lines and group.role not in LINE_ROLE_NAMES:
            problems.append((where, f"the {group.role} role is for the whole site: no lines"))
        problems += [(where, f"unknown line {line!r}") for line in group.lines if line not in lines]
    for badge in auth.badges:
        if not 1 <= len(badge) <= 64 or not badge.isprintable():
            problems.append((("auth", "badges", badge), "a badge number is 1 to 64 characters"))
    return problems

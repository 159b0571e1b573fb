"""Request and response bodies of sign-in (/api/login) and accounts (/api/admin/users)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from contract.bounds import Text
from contract.wire import Name
from hub.access.accounts import ACCOUNT_NAME_PATTERN, AccountSource
from hub.access.passwords import MAX_LENGTH, MIN_LENGTH
from hub.access.permissions import Role

MAX_ACCOUNT_LINES = 100

AccountName = Annotated[str, Field(pattern=ACCOUNT_NAME_PATTERN, max_length=64)]
# One line of text: no control characters (a NUL, a line break) in a password.
Password = Annotated[Text, Field(min_length=1, max_length=MAX_LENGTH)]
NewPassword = Annotated[Text, Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Any text a person may type: a name no account has is refused as a wrong password.
    username: Annotated[Text, Field(min_length=1, max_length=256)]
    password: Password


class LoginOut(BaseModel):
    token: str = Field(description="a bearer token, like an API token, until expires_at")
    name: str = Field(description="the account signed in")
    role: Role
    lines: list[str] = Field(description="the lines it may read and act on; [] for every line")
    expires_at: datetime


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AccountName
    role: Role
    lines: list[Name] = Field(
        default_factory=list,
        max_length=MAX_ACCOUNT_LINES,
        description="empty: every line; only viewer, station and responder accounts have lines",
    )
    person: Name | None = Field(default=None, description="a people: id of the escalation")
    password: NewPassword


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: NewPassword


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    role: Role
    lines: list[str]
    person: str | None
    source: AccountSource = Field(description="local, or ldap (the directory vouched for it)")
    created_at: datetime
    disabled_at: datetime | None

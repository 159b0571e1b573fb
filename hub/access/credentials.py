"""Whose name and password these are: a local account's, else the directory's.

A local account is checked first, so a directory that is down never stops the people
who have one; the directory is asked only for names no local account holds.
"""

from __future__ import annotations

import logging
from datetime import datetime

from hub.access.accounts import Account, AccountSource, AccountStore
from hub.access.directory import DirectoryUnavailable, authenticate
from hub.access.passwords import password_matches
from hub.access.permissions import Role
from hub.config.auth import AuthConfig

log = logging.getLogger(__name__)

__all__ = ["DirectoryUnavailable", "check_credentials"]


def check_credentials(
    accounts: AccountStore, auth: AuthConfig, username: str, password: str, now: datetime
) -> Account | None:
    """The enabled account these credentials open, or None. DirectoryUnavailable when only
    the directory could tell, and it cannot be reached."""
    account = accounts.find(username)
    if account is not None and account.source is AccountSource.LOCAL:
        matches = password_matches(account.password_hash, password)
        return account if matches and account.disabled_at is None else None
    if auth.ldap is None:
        password_matches(None, password)  # as slow as a wrong password: nothing to learn
        return None
    user = authenticate(auth.ldap, username, password)
    if user is None:
        return None
    log.info("directory: %s signs in through group %s", user.name, user.group.dn)
    return accounts.vouched(
        name=user.name, role=Role(user.group.role), lines=user.group.lines, now=now
    )

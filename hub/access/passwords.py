"""Passwords of the hub's own accounts: argon2id hashes (argon2-cffi's defaults, RFC 9106's
second recommended parameter set), never the password itself."""

from __future__ import annotations

import functools
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2id


@functools.cache
def _decoy() -> str:
    """Checked against when an account has no hash (unknown, or the directory's), so a
    wrong name costs the same time as a wrong password and the answer's delay tells
    nothing. Made at the first sign-in, not at import: every hub process imports this."""
    return _HASHER.hash("a password nobody has")


MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; a bound keeps a request from costing more


class PasswordRefused(ValueError):
    """A new password too short or too long."""


def check_new_password(password: str) -> None:
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise PasswordRefused(f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters")
    # The API's own rule for one line of text (contract/bounds.py's Text, whose pattern the
    # OpenAPI document shows): no control character and no lone surrogate; any other
    # character a keyboard can type, spaces of every kind included, is a password's.
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        raise PasswordRefused("a password has no control characters (tabs, line breaks, NUL)")


def hash_password(password: str) -> str:
    check_new_password(password)
    return _HASHER.hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one hashed; with no hash, as slow, and False."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash or _decoy(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False

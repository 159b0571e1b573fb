"""Secrets kept out of the YAML: ``{env:NAME}`` and ``{file:PATH}`` stand for their values.

A configuration value such as ``password: "{env:MQTT_PASSWORD}"`` or
``url: "postgresql+psycopg://hub:{file:/etc/andon/db.pass}@db/andon"`` is resolved when
it is used, not when the file is checked, so ``andon check-config`` runs on a machine
without the secrets.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_REFERENCE = re.compile(r"\{(env|file):([^{}]+)\}")


class SecretMissing(Exception):
    """A ``{env:...}`` or ``{file:...}`` reference that cannot be resolved."""


def resolve_secrets(text: str) -> str:
    """``text`` with every secret reference replaced by its value."""

    def value(match: re.Match[str]) -> str:
        source, name = match[1], match[2].strip()
        if source == "env":
            if name not in os.environ:
                raise SecretMissing(f"environment variable {name} is not set")
            return os.environ[name]
        try:
            return Path(name).read_text().strip()
        except OSError as exc:
            raise SecretMissing(f"cannot read secret file {name}: {exc.strerror}") from None

    return _REFERENCE.sub(value, text)


def is_clear_text(text: str) -> bool:
    """True when ``text`` holds a secret written out rather than referenced."""
    return bool(text) and _REFERENCE.search(text) is None


_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/?#@]*)@")
_QUERY_VALUE = re.compile(r"([?&][^=&#]*=)[^&#]*")
# In these schemes a lone user name is a mailbox, not a secret (mailto://li.wei@example.com).
_USER_IS_ADDRESS = frozenset({"mailto://", "mailtos://"})


def redact_url(url: str) -> str:
    """``url`` safe to show: secret references, passwords, tokens and query values as ``***``.

    Nothing is resolved. In ``user:password@`` the password goes; a lone ``token@`` goes
    whole (DingTalk's ``secret@token``), except in e-mail URLs, where it is the mailbox."""
    shown = _REFERENCE.sub("***", url)

    def userinfo(match: re.Match[str]) -> str:
        user, colon, _ = match["user"].partition(":")
        if colon:
            return f"{match['scheme']}{user}:***@"
        if match["scheme"].lower() in _USER_IS_ADDRESS or user == "***":
            return match[0]
        return f"{match['scheme']}***@"

    shown = _USERINFO.sub(userinfo, shown, count=1)
    return _QUERY_VALUE.sub(r"\1***", shown)

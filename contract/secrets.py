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

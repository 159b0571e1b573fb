"""Configuration models both the hub and the edge agents use."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from contract.secrets import resolve_secrets
from contract.wire import Name


class Strict(BaseModel):
    """A configuration section: unknown keys are errors and values do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerConfig(Strict):
    """Where the MQTT broker is, and the topic prefix of this plant."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    topic_prefix: Name = "andon"
    username: str | None = None
    password: str | None = Field(
        default=None, description='"{env:NAME}" or "{file:PATH}" keeps it out of the file'
    )
    keepalive_s: int = Field(default=10, ge=1, le=3600)
    ca_file: Path | None = Field(
        default=None, description="CA certificate of the broker's TLS listener; set: TLS on"
    )

    def resolved_password(self) -> str | None:
        """The password with its secret references resolved (SecretMissing if it cannot)."""
        return None if self.password is None else resolve_secrets(self.password)

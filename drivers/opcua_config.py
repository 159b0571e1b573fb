"""An OPC UA server's configuration, and the syntax of its addresses (NodeIds).

Kept apart from the driver (``drivers/opcua.py``) so that checking a configuration file
does not load the OPC UA stack.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from contract.secrets import resolve_secrets
from drivers.config import DEVICE_ID_PATTERN

SecurityPolicy = Literal["None", "Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"]
SecurityMode = Literal["None", "Sign", "SignAndEncrypt"]

# The NodeId string syntax of OPC UA Part 6 (5.3.1.10): an optional namespace
# (``ns=<index>;`` or ``nsu=<uri>;``) and one identifier: numeric, string, GUID or opaque.
_NAMESPACE = r"(?:ns=(?P<ns>\d{1,5});|nsu=[^;]+;)?"
_IDENTIFIERS = {
    "i": re.compile(r"\d{1,10}"),
    "s": re.compile(r".+", re.DOTALL),
    "g": re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"),
    "b": re.compile(r"[A-Za-z0-9+/]+={0,2}"),
}
_NODE_ID = re.compile(_NAMESPACE + r"(?P<kind>[isgb])=(?P<id>.*)", re.DOTALL)
_ENDPOINT = re.compile(r"opc\.tcp://[^/\s:]+(:\d{1,5})?(/\S*)?")
NODE_ID_EXAMPLES = '"ns=2;s=Line1.St10.Maintenance" or "ns=3;i=1001"'


def node_id_problem(address: str) -> str | None:
    """Why ``address`` is not a NodeId string, or None when it is one."""
    match = _NODE_ID.fullmatch(address)
    if match is None:
        return f"not a NodeId: {address!r}; expected one such as {NODE_ID_EXAMPLES}"
    if match["ns"] is not None and int(match["ns"]) > 65535:
        return f"namespace index {match['ns']} is over 65535 in {address!r}"
    kind, identifier = match["kind"], match["id"]
    if not _IDENTIFIERS[kind].fullmatch(identifier):
        expected = {"i": "a number", "s": "a name", "g": "a GUID", "b": "base64 bytes"}[kind]
        return f"{kind}= takes {expected}; got {address!r}"
    if kind == "i" and int(identifier) > 0xFFFF_FFFF:
        return f"a numeric identifier is at most 4294967295; got {address!r}"
    return None


class OpcUaConfig(BaseModel):
    """One OPC UA server (a PLC's, an HMI's, a gateway's such as Kepware)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["opcua"]
    id: str = Field(pattern=DEVICE_ID_PATTERN)
    endpoint: str = Field(description="opc.tcp://host:port[/path]")
    security_policy: SecurityPolicy = "None"
    security_mode: SecurityMode = "None"
    certificate: Path | None = Field(default=None, description="client certificate, PEM or DER")
    private_key: Path | None = Field(default=None, description="its private key, PEM or DER")
    username: str | None = Field(default=None, min_length=1)
    password: str | None = Field(default=None, description='"{env:NAME}" or "{file:PATH}"')
    publishing_interval_ms: float = Field(default=50, gt=0, le=60_000)
    timeout_s: float = Field(default=4.0, gt=0, le=60)
    backoff_cap_s: float = Field(
        default=30.0, gt=0, description="longest gap between reminders that it is still down"
    )

    @field_validator("endpoint")
    @classmethod
    def _opc_tcp(cls, endpoint: str) -> str:
        if not _ENDPOINT.fullmatch(endpoint):
            raise ValueError(
                f"expected opc.tcp://HOST:PORT or opc.tcp://HOST:PORT/PATH; got {endpoint!r}"
            )
        return endpoint

    @model_validator(mode="after")
    def _security_fits(self) -> OpcUaConfig:
        if (self.security_policy == "None") != (self.security_mode == "None"):
            raise ValueError(
                "'security_policy' and 'security_mode' are both None or neither: "
                f"got {self.security_policy} and {self.security_mode}"
            )
        secured = self.security_policy != "None"
        if secured and (self.certificate is None or self.private_key is None):
            policy = self.security_policy
            raise ValueError(f"security {policy} needs 'certificate' and 'private_key'")
        if (self.username is None) != (self.password is None):
            raise ValueError("'username' and 'password' go together")
        return self

    def resolved_user(self) -> tuple[str, str] | None:
        """User name and password with their secret references resolved (SecretMissing
        if one cannot be); None without a user."""
        if self.username is None or self.password is None:
            return None
        return resolve_secrets(self.username), resolve_secrets(self.password)

    def resolved(self, config_file: Path) -> OpcUaConfig:
        """This configuration with its certificate paths taken relative to ``config_file``."""
        base = config_file.parent
        return self.model_copy(
            update={
                "certificate": None if self.certificate is None else base / self.certificate,
                "private_key": None if self.private_key is None else base / self.private_key,
            }
        )

"""The hub's and the edge agent's configuration files, as pydantic models."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from andon.wire import Name
from drivers import DeviceConfig, Table


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerConfig(Strict):
    """Where the MQTT broker is, and the topic prefix of this plant."""

    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    topic_prefix: Name = "andon"
    username: str | None = None
    password: str | None = None
    keepalive_s: int = Field(default=10, ge=1, le=3600)


class StationConfig(Strict):
    id: Name
    name: str | None = None


class LineConfig(Strict):
    id: Name
    name: str | None = None
    stations: list[StationConfig] = Field(min_length=1)


class AreaConfig(Strict):
    id: Name
    name: str | None = None
    lines: list[LineConfig] = Field(min_length=1)


class StorageConfig(Strict):
    path: Path = Path("var/hub.sqlite3")


class ApiConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class HubConfig(Strict):
    """One hub per site."""

    site: Name
    client_id: Name | None = Field(
        default=None, description="MQTT client id; fixed so the broker keeps the session"
    )
    broker: BrokerConfig = BrokerConfig()
    storage: StorageConfig = StorageConfig()
    api: ApiConfig = ApiConfig()
    call_types: list[Name] = Field(min_length=1)
    reason_codes: list[Name] = Field(min_length=1)
    areas: list[AreaConfig] = Field(min_length=1)

    @property
    def mqtt_client_id(self) -> str:
        return self.client_id or f"andon-hub-{self.site}"

    def station_keys(self) -> set[tuple[str, str, str]]:
        """Every (area, line, station) of the site."""
        return {
            (area.id, line.id, station.id)
            for area in self.areas
            for line in area.lines
            for station in line.stations
        }


class ButtonConfig(Strict):
    """One station button: a bit on a device that raises one call type."""

    device: Name
    table: Table = Table.COIL
    address: int = Field(ge=0, le=65535)
    bit: int | None = Field(default=None, ge=0, le=15, description="bit of a register")
    station: Name
    call_type: Name

    @model_validator(mode="after")
    def _bit_only_on_registers(self) -> ButtonConfig:
        is_register = self.table in (Table.HOLDING_REGISTER, Table.INPUT_REGISTER)
        if is_register and self.bit is None:
            raise ValueError(f"a button on a {self.table} needs 'bit' (0-15)")
        if not is_register and self.bit is not None:
            raise ValueError(f"'bit' applies to registers only, not to a {self.table}")
        return self


class OutboxConfig(Strict):
    path: Path = Path("var/edge-outbox.sqlite3")


class EdgeConfig(Strict):
    """One edge agent per line."""

    edge_id: Name
    site: Name
    area: Name
    line: Name
    broker: BrokerConfig = BrokerConfig()
    outbox: OutboxConfig = OutboxConfig()
    poll_interval_s: float = Field(default=0.05, gt=0, le=10)
    debounce_s: float = Field(default=0.03, ge=0, le=5)
    devices: list[DeviceConfig] = Field(min_length=1)
    buttons: list[ButtonConfig] = Field(default_factory=list)

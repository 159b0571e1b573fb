"""The edge agent's configuration file, as pydantic models."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from contract.config.loading import Problem, duplicates, load_model
from contract.config.models import BrokerConfig, Strict
from contract.wire import Name
from drivers import DeviceConfig, Table


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

    def problems(self) -> list[Problem]:
        """Mistakes the schema cannot see: repeated ids, unknown devices, shared inputs."""
        device_ids = [device.id for device in self.devices]
        problems: list[Problem] = [
            (("devices", i, "id"), f"duplicate device id {device_ids[i]!r}")
            for i in duplicates(device_ids)
        ]
        for index, button in enumerate(self.buttons):
            if button.device not in device_ids:
                problems.append(
                    (
                        ("buttons", index, "device"),
                        f"unknown device {button.device!r}; expected one of: "
                        f"{', '.join(dict.fromkeys(device_ids))}",
                    )
                )
        inputs = [f"{b.device} {b.table} {b.address} bit {b.bit}" for b in self.buttons]
        problems += [
            (("buttons", i), f"input already used by another button: {inputs[i]}")
            for i in duplicates(inputs)
        ]
        return problems


def load_edge_config(path: Path) -> EdgeConfig:
    """The edge configuration in ``path``, or ConfigInvalid with every error."""
    return load_model(path, EdgeConfig)

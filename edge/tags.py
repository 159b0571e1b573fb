"""What a poller reads: buttons and measurements, each with its configuration and state."""

from __future__ import annotations

from dataclasses import dataclass

from contract.wire import MeasuredValue
from drivers import Table
from edge.config import ButtonConfig, MeasurementConfig
from rules.buttons import HoldClassifier
from rules.signals import DebouncedButton


@dataclass
class ButtonTag:
    """A button, its debounce state, and its short/long state if it has a long press."""

    config: ButtonConfig
    signal: DebouncedButton
    hold: HoldClassifier | None = None

    @property
    def device(self) -> str:
        return self.config.device

    @property
    def table(self) -> Table:
        return self.config.table

    @property
    def address(self) -> int:
        address = self.config.address
        assert isinstance(address, int)  # only buttons with a Modbus address are polled
        return address

    @property
    def width(self) -> int:
        return 1

    def settled(self, pressed: bool) -> bool:
        """Whether more samples of ``pressed`` would change nothing: the debounced level
        is that sample, and no long press is being timed. Only then may a poller leave
        out a button whose contact did not change."""
        level = self.signal.level
        return level == pressed and not (level and self.hold is not None)


@dataclass
class MeasurementTag:
    """A measurement and the value it last published (for the deadband)."""

    config: MeasurementConfig
    last_published: MeasuredValue | None = None

    @property
    def device(self) -> str:
        return self.config.device

    @property
    def table(self) -> Table:
        return self.config.table

    @property
    def address(self) -> int:
        address = self.config.address
        assert isinstance(address, int)  # only measurements with a Modbus address are polled
        return address

    @property
    def width(self) -> int:
        return self.config.width


AnyTag = ButtonTag | MeasurementTag

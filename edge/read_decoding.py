"""What one read's values mean: each button's sample and each measurement's value.

This is the poll loop's hot path (hundreds of tags ten times a second), so the work per
tag is worked out once per read, not per tag and cycle:

- buttons are compared with the read's previous values, and only those whose sample
  changed, or whose signal is still settling (a debounce under way, a long press being
  timed), go to the sink; a button at rest with an unchanged contact is not touched;
- one-register ``int16``/``uint16`` measurements of a read are decoded and scaled as
  arrays, in one go (``value = raw * scale + offset`` as IEEE doubles, the same
  operations ``rules.registers.scaled`` does); every other type is decoded per tag by
  ``rules.registers.decode``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from contract.wire import MeasuredValue
from edge.config import MeasurementConfig
from edge.tags import AnyTag, ButtonTag, MeasurementTag
from rules.registers import ByteOrder, ValueType, decode, scaled

if TYPE_CHECKING:
    from drivers.modbus_plan import Read

# How one tag's value comes out of the values of its read, at its offset there.
Decoder = Callable[[Sequence[int], int], Any]
# A button's index in its read, the button, and its sample.
ButtonSample = tuple[int, ButtonTag, bool]


# A reading's (station, name, unit), the parts that stay the same every cycle.
ReadingKey = tuple[str, str, str | None]


@dataclass
class Readings:
    """The measurements one read gave in this cycle: their tags, raw (decoded) values
    and scaled values, in the same order. ``published``: the tags' names and reading keys
    when every value is to be published as it is (finite numbers, and no tag with a
    deadband), so the recorder takes the block without looking at each tag."""

    tags: list[MeasurementTag]
    raws: list[MeasuredValue]
    values: list[MeasuredValue]
    published: tuple[list[str], list[ReadingKey]] | None = None


@dataclass
class _Words:
    """The one-register integer measurements of a read, decoded as arrays."""

    tags: list[MeasurementTag]
    offsets: np.ndarray[Any, np.dtype[np.intp]]
    signed: np.ndarray[Any, np.dtype[np.bool_]]
    swapped: np.ndarray[Any, np.dtype[np.bool_]]
    scale: np.ndarray[Any, np.dtype[np.float64]]
    offset: np.ndarray[Any, np.dtype[np.float64]]
    # Which of them keep their raw integer (scale 1, offset 0: a counter stays whole).
    whole: list[int]
    all_whole: bool
    # The names and reading keys, when no tag has a deadband (``Readings.published``).
    published: tuple[list[str], list[ReadingKey]] | None

    def decode(self, values: Sequence[int]) -> Readings:
        words = np.asarray(values, dtype=np.int64)[self.offsets] & 0xFFFF
        words = np.where(self.swapped, ((words & 0xFF) << 8) | (words >> 8), words)
        raw = np.where(self.signed, (words ^ 0x8000) - 0x8000, words)
        raws: list[MeasuredValue] = raw.tolist()
        if self.all_whole:
            return Readings(self.tags, raws, raws, self.published)
        scaled = raw * self.scale + self.offset
        scaled_values: list[MeasuredValue] = scaled.tolist()
        for i in self.whole:
            scaled_values[i] = raws[i]
        # A scale or offset can overflow to infinity, which is not published.
        published = self.published if np.isfinite(scaled).all() else None
        return Readings(self.tags, raws, scaled_values, published)


@dataclass
class ReadDecoder:
    """Decodes the values of one read, remembering its previous values for the buttons."""

    buttons: list[tuple[ButtonTag, int, Decoder]]
    words: _Words | None
    others: list[tuple[MeasurementTag, int, Decoder]]
    _last: list[int] | None = None
    # Buttons (by index) whose signal still needs samples although their contact is unchanged.
    _settling: set[int] = field(default_factory=set)
    _by_offset: dict[int, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index, (_, offset, _) in enumerate(self.buttons):
            self._by_offset.setdefault(offset, []).append(index)

    def button_samples(self, values: Sequence[int]) -> list[ButtonSample]:
        """The buttons the sink must see this cycle, each with its sample."""
        if not self.buttons:
            return []
        last, self._last = self._last, list(values)
        if last is None or len(last) != len(values):
            chosen = set(range(len(self.buttons)))
        elif last == self._last:
            chosen = set(self._settling)
        else:
            changed = np.flatnonzero(np.asarray(values) != np.asarray(last)).tolist()
            chosen = {i for offset in changed for i in self._by_offset.get(offset, ())}
            chosen |= self._settling
        samples = []
        for index in sorted(chosen):
            tag, offset, decoder = self.buttons[index]
            samples.append((index, tag, bool(decoder(values, offset))))
        return samples

    def note_settled(self, samples: list[ButtonSample]) -> None:
        """After the sink saw ``samples``: which of those buttons still settle."""
        for index, tag, pressed in samples:
            if tag.settled(pressed):
                self._settling.discard(index)
            else:
                self._settling.add(index)

    def measurements(self, values: Sequence[int]) -> list[Readings]:
        """The measurements of this read: the array-decoded ones, then the others."""
        blocks = [] if self.words is None else [self.words.decode(values)]
        if self.others:
            tags, raws, scaled_values = [], [], []
            for tag, offset, decoder in self.others:
                raw = decoder(values, offset)
                config = tag.config
                tags.append(tag)
                raws.append(raw)
                scaled_values.append(scaled(raw, config.scale, config.offset))
            blocks.append(Readings(tags, raws, scaled_values))
        return blocks


def read_decoder(read: Read[AnyTag]) -> ReadDecoder:
    """How to decode ``read``: worked out once, when the poller is built."""
    buttons: list[tuple[ButtonTag, int, Decoder]] = []
    words: list[tuple[MeasurementTag, int]] = []
    others: list[tuple[MeasurementTag, int, Decoder]] = []
    for tag in read.tags:
        offset = tag.address - read.start
        if isinstance(tag, ButtonTag):
            buttons.append((tag, offset, _button_decoder(tag)))
        elif _one_word(tag.config):
            words.append((tag, offset))
        else:
            others.append((tag, offset, _measurement_decoder(tag.config)))
    return ReadDecoder(buttons, _words(words) if words else None, others)


def _one_word(config: MeasurementConfig) -> bool:
    return (
        not config.table.is_bits
        and config.width == 1
        and config.type in (ValueType.UINT16, ValueType.INT16)
    )


def _words(members: list[tuple[MeasurementTag, int]]) -> _Words:
    configs = [tag.config for tag, _ in members]
    whole = [i for i, c in enumerate(configs) if c.scale == 1.0 and c.offset == 0.0]
    return _Words(
        tags=[tag for tag, _ in members],
        offsets=np.array([offset for _, offset in members], dtype=np.intp),
        signed=np.array([c.type is ValueType.INT16 for c in configs]),
        # For one register only the byte swap within it matters.
        swapped=np.array([c.byte_order in (ByteOrder.DCBA, ByteOrder.BADC) for c in configs]),
        scale=np.array([c.scale for c in configs], dtype=np.float64),
        offset=np.array([c.offset for c in configs], dtype=np.float64),
        whole=whole,
        all_whole=len(whole) == len(configs),
        published=(
            None
            if any(c.deadband is not None for c in configs)
            else ([c.name for c in configs], [(c.station, c.name, c.unit) for c in configs])
        ),
    )


def _button_decoder(tag: ButtonTag) -> Decoder:
    bit = tag.config.bit
    if bit is None:
        return lambda values, offset: bool(values[offset])
    return lambda values, offset: bool(values[offset] >> bit & 1)


def _measurement_decoder(config: MeasurementConfig) -> Decoder:
    width = config.width
    return lambda values, offset: decode_tag(config, list(values[offset : offset + width]))


def decode_tag(config: MeasurementConfig, words: list[int]) -> MeasuredValue:
    """The raw value of a measurement from the words (or the one bit) read for it."""
    if config.table.is_bits:
        return bool(words[0])
    if config.type is ValueType.BOOL:
        return bool(words[0])
    return decode(words, config.type, config.byte_order)

"""How a poller decodes one read: the array path gives exactly the per-tag decode, and
buttons at rest with an unchanged contact are left out, never one that is settling."""

from __future__ import annotations

import itertools
import random

from drivers.modbus_plan import Read
from edge.config import ButtonConfig, LongPressConfig, MeasurementConfig
from edge.read_decoding import ReadDecoder, decode_tag, read_decoder
from edge.tags import AnyTag, ButtonTag, MeasurementTag
from rules.buttons import HoldClassifier
from rules.registers import ByteOrder, ValueType, scaled
from rules.signals import DebouncedButton

SCALES = [(1.0, 0.0), (0.1, 0.0), (0.5, -3.25), (1.0, 2.0), (-1e-3, 1e6)]
WORDS = [0, 1, 0x7FFF, 0x8000, 0x8001, 0xFFFE, 0xFFFF, 0x1234, 0x3412]


def _read(tags: list[AnyTag]) -> Read[AnyTag]:
    start = min(tag.address for tag in tags)
    end = max(tag.address + tag.width for tag in tags)
    return Read("plc1", tags[0].table, start, end - start, 0.1, list(tags))


def test_one_register_integers_decoded_as_arrays_are_the_per_tag_decode_type_for_type() -> None:
    kinds = list(itertools.product([ValueType.INT16, ValueType.UINT16], ByteOrder, SCALES))
    tags: list[AnyTag] = [
        MeasurementTag(
            MeasurementConfig(
                name=f"m{i}",
                device="plc1",
                address=i,
                type=value_type,
                byte_order=order,
                scale=scale,
                offset=offset,
                station="st1",
            )
        )
        for i, (value_type, order, (scale, offset)) in enumerate(kinds)
    ]
    # A string between them is decoded per tag, beside the arrays.
    text = MeasurementConfig(
        name="lot", device="plc1", address=len(kinds), type=ValueType.STRING, length=2,
        station="st1",
    )  # fmt: skip
    tags.append(MeasurementTag(text))
    decoder = read_decoder(_read(tags))
    assert decoder.words is not None
    assert len(decoder.words.tags) == len(kinds)
    rng = random.Random(5)
    for _ in range(20):
        values = [rng.choice([*WORDS, rng.randrange(65536)]) for _ in kinds] + [0x4142, 0x4300]
        got = {
            tag.config.name: (raw, value)
            for block in decoder.measurements(values)
            for tag, raw, value in zip(block.tags, block.raws, block.values, strict=True)
        }
        assert len(got) == len(tags)
        for tag in tags:
            assert isinstance(tag, MeasurementTag)
            c = tag.config
            assert isinstance(c.address, int)
            raw = decode_tag(c, values[c.address : c.address + c.width])
            value = scaled(raw, c.scale, c.offset)
            assert got[c.name] == (raw, value), c
            # A counter read with scale 1 and offset 0 stays a whole number.
            assert type(got[c.name][1]) is type(value), c


class _Sink:
    """Feeds each sample to the button's signal, as the recorder does, and notes presses."""

    def __init__(self) -> None:
        self.given: list[int] = []
        self.presses: list[tuple[int, float]] = []

    def feed(self, decoder: ReadDecoder, values: list[int], now: float) -> None:
        samples = decoder.button_samples(values)
        self.given = [tag.address for _, tag, _ in samples]
        for _, tag, pressed in samples:
            rising = tag.signal.update(pressed, now)
            if tag.hold is None and rising:
                self.presses.append((tag.address, now))
            if tag.hold is not None and tag.hold.update(tag.signal.level, now):
                self.presses.append((tag.address, now))
        decoder.note_settled(samples)


def _buttons(count: int, *, stable_s: float = 0.0, hold_at: int | None = None) -> ReadDecoder:
    tags: list[AnyTag] = []
    for address in range(count):
        long_press = LongPressConfig(hold_s=0.25, call_type="line-down")
        config = ButtonConfig(
            device="plc1", address=address, station="st1", call_type="help",
            long_press=long_press if address == hold_at else None,
        )  # fmt: skip
        hold = HoldClassifier(hold_s=0.25) if address == hold_at else None
        tags.append(ButtonTag(config, DebouncedButton(stable_s=stable_s), hold))
    return read_decoder(_read(tags))


def test_a_debounced_press_gets_its_samples_while_the_contact_stays_unchanged() -> None:
    decoder, sink = _buttons(8, stable_s=0.15), _Sink()
    sink.feed(decoder, [0] * 8, 0.0)
    assert sink.given == list(range(8))  # the first read: every button
    sink.feed(decoder, [0] * 8, 0.1)
    assert sink.given == []  # at rest, unchanged: left out
    sink.feed(decoder, [0, 0, 0, 1, 0, 0, 0, 0], 0.2)
    assert sink.given == [3]
    assert sink.presses == []
    sink.feed(decoder, [0, 0, 0, 1, 0, 0, 0, 0], 0.3)  # unchanged, but still settling
    assert sink.given == [3]
    assert sink.presses == []
    sink.feed(decoder, [0, 0, 0, 1, 0, 0, 0, 0], 0.4)
    assert sink.given == [3]
    assert sink.presses == [(3, 0.4)]
    sink.feed(decoder, [0, 0, 0, 1, 0, 0, 0, 0], 0.5)
    assert sink.given == []  # pressed and settled: nothing more to learn
    sink.feed(decoder, [0, 0, 0, 0, 0, 1, 0, 0], 0.6)
    assert sink.given == [3, 5]


def test_a_held_button_with_a_long_press_is_sampled_until_its_long_press_counts() -> None:
    decoder, sink = _buttons(4, hold_at=2), _Sink()
    sink.feed(decoder, [0, 0, 0, 0], 0.0)
    sink.feed(decoder, [0, 0, 1, 0], 0.1)
    assert sink.given == [2]
    for now in (0.2, 0.3, 0.4):  # unchanged, but the hold is being timed
        sink.feed(decoder, [0, 0, 1, 0], now)
        assert sink.given == [2]
    assert sink.presses == [(2, 0.4)]  # held 0.3 s of 0.25: the long press
    sink.feed(decoder, [0, 0, 0, 0], 0.5)
    assert sink.given == [2]
    assert sink.presses == [(2, 0.4)]
    sink.feed(decoder, [0, 0, 0, 0], 0.6)
    assert sink.given == []

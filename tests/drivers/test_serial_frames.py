"""The button station line protocol, parsed without any I/O (docs/serial-protocol.md)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.serial_frames import (
    MAX_LINE,
    ButtonFrame,
    Frame,
    HeartbeatFrame,
    Rejection,
    StationFrameParser,
    checksum,
    encode,
    parse_frame,
)
from drivers.serial_lines import LineSplitter

PRESS = ButtonFrame(station="st10", button="maint", pressed=True, seq=42)


def test_the_worked_example_of_the_protocol_document() -> None:
    assert checksum(b"BTN,st10,maint,P,42") == 0x77
    assert encode(PRESS) == b"$BTN,st10,maint,P,42*77\r\n"
    assert encode(HeartbeatFrame(station="st10", seq=43)) == b"$HB,st10,43*0B\r\n"
    assert parse_frame(b"$BTN,st10,maint,P,42*77") == PRESS


def test_lower_case_checksum_digits_are_accepted() -> None:
    assert parse_frame(b"$HB,st10,43*0b") == HeartbeatFrame(station="st10", seq=43)


def _signed(body: bytes) -> bytes:
    return b"$%s*%02X" % (body, checksum(body))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"$BTN,st10,maint,P,42", Rejection.MALFORMED),  # no checksum
        (b"$BTN,st10,maint,P,42*7", Rejection.MALFORMED),  # one digit
        (b"$BTN,st10,maint,P,42*7G", Rejection.MALFORMED),  # not hex
        (b"$*", Rejection.MALFORMED),
        (b"$BTN,st10,maint,P,42*76", Rejection.BAD_CHECKSUM),
        (b"$BTN,st10,maint,R,42*77", Rejection.BAD_CHECKSUM),  # P became R on the wire
        (_signed(b"LED,st10,red"), Rejection.UNKNOWN_TYPE),
        (_signed(b""), Rejection.UNKNOWN_TYPE),
        (_signed(b"btn,st10,maint,P,42"), Rejection.UNKNOWN_TYPE),  # types are upper case
        (_signed(b"BTN,st10,maint,P"), Rejection.BAD_FIELDS),  # too few fields
        (_signed(b"BTN,st10,maint,P,42,1"), Rejection.BAD_FIELDS),  # too many
        (_signed(b"BTN,st10,maint,X,42"), Rejection.BAD_FIELDS),  # neither P nor R
        (_signed(b"BTN,st 10,maint,P,42"), Rejection.BAD_FIELDS),  # blank in an id
        (_signed(b"BTN,,maint,P,42"), Rejection.BAD_FIELDS),  # empty id
        (_signed(b"BTN,st10,m\xe4int,P,42"), Rejection.BAD_FIELDS),  # not ASCII
        (_signed(b"BTN,%s,b,P,1" % (b"s" * 65)), Rejection.BAD_FIELDS),  # id too long
        (_signed(b"BTN,st10,maint,P,65536"), Rejection.BAD_FIELDS),  # seq too big
        (_signed(b"BTN,st10,maint,P,-1"), Rejection.BAD_FIELDS),
        (_signed(b"BTN,st10,maint,P,+1"), Rejection.BAD_FIELDS),
        (_signed(b"HB,st10"), Rejection.BAD_FIELDS),
        (_signed(b"HB,st10,1,2"), Rejection.BAD_FIELDS),
    ],
)
def test_each_kind_of_bad_frame_is_rejected_for_its_reason(text: bytes, reason: Rejection) -> None:
    assert parse_frame(text) == reason


def test_the_longest_frame_fits_in_a_line() -> None:
    longest = ButtonFrame(station="s" * 64, button="b" * 64, pressed=False, seq=65535)
    raw = encode(longest)
    assert len(raw) <= MAX_LINE
    assert StationFrameParser().feed(raw) == [longest]


def test_partial_frames_across_reads_and_several_frames_in_one_read() -> None:
    stream = encode(PRESS) + encode(HeartbeatFrame("st10", 43)) + encode(PRESS)
    whole = StationFrameParser().feed(stream)
    parser = StationFrameParser()
    byte_by_byte = [frame for i in range(len(stream)) for frame in parser.feed(stream[i : i + 1])]
    assert whole == byte_by_byte == [PRESS, HeartbeatFrame("st10", 43), PRESS]
    assert not parser.rejected


@pytest.mark.parametrize("line_end", [b"\r\n", b"\n", b"\r"])
def test_any_line_end_ends_a_frame(line_end: bytes) -> None:
    parser = StationFrameParser()
    assert parser.feed(encode(PRESS)[:-2] + line_end + b"\r\n\n") == [PRESS]
    assert not parser.rejected, "blank lines are not counted"


def test_noise_before_a_frame_on_its_line_is_counted_and_the_frame_kept() -> None:
    parser = StationFrameParser()
    assert parser.feed(b"\x00\xff\x80" + encode(PRESS)) == [PRESS]
    assert parser.rejected == {Rejection.GARBAGE: 1}


def test_an_overlong_run_is_dropped_up_to_the_next_line_end_and_counted_once() -> None:
    parser = StationFrameParser()
    for _ in range(100):  # 100 kB with no line end, in 1 kB reads
        assert parser.feed(b"$" + b"\x55" * 1023) == []
    assert parser.feed(encode(PRESS) + b"\n" + encode(PRESS)) == [PRESS]
    assert parser.rejected == {Rejection.OVERLONG: 1}


def test_binary_noise_never_raises() -> None:
    parser = StationFrameParser()
    noise = bytes(range(256)) * 4 + b"$*\r\n$BTN,*ZZ\n$,,,,*00\n"
    assert parser.feed(noise) == []
    assert parser.feed(encode(PRESS)) == [PRESS]


def test_the_line_splitter_keeps_a_crlf_split_between_reads_as_one_line_end() -> None:
    splitter = LineSplitter(16)
    assert splitter.feed(b"abc\r") == [b"abc"]
    assert splitter.feed(b"\ndef\r\r\n") == [b"def", b""]
    assert splitter.feed(b"") == []
    assert splitter.overlong == 0


ids = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
    min_size=1,
    max_size=64,
)
seqs = st.integers(min_value=0, max_value=65535)
frames: st.SearchStrategy[Frame] = st.one_of(
    st.builds(ButtonFrame, station=ids, button=ids, pressed=st.booleans(), seq=seqs),
    st.builds(HeartbeatFrame, station=ids, seq=seqs),
)
# Biased towards the bytes that matter to the protocol, so that noise looks like frames.
noise = st.binary(max_size=300) | st.lists(
    st.sampled_from([b"$", b"*", b",", b"\r", b"\n", b"BTN", b"HB", b"P", b"7F", b"\x00"]),
    max_size=40,
).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.tuples(noise, frames), max_size=12),
    tail=noise,
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=20),
)
def test_every_newline_delimited_frame_comes_out_once_in_order_whatever_the_noise(
    pieces: list[tuple[bytes, Frame]], tail: bytes, cuts: list[int]
) -> None:
    stream = b"".join(garbage + b"\n" + encode(frame) for garbage, frame in pieces) + tail
    bounds = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    parser = StationFrameParser()
    parsed = [
        frame
        for start, end in itertools.pairwise(bounds)
        for frame in parser.feed(stream[start:end])
    ]
    # Exactly the frames sent: none lost, none twice, none made up from the noise (no
    # token of it is all digits, so it cannot spell a sequence number; random bytes
    # spelling a whole frame with its checksum is not a thing to plan for).
    assert parsed == [frame for _, frame in pieces]

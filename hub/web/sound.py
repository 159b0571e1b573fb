"""The board's call sound: a short two-tone chime, made here with the standard library's
``wave`` module rather than shipped as a binary or fetched from anywhere."""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import cache

RATE = 16_000  # Hz: enough for tones under 2 kHz, small to send
TONES = ((880.0, 0.18), (0.0, 0.06), (660.0, 0.18), (0.0, 0.6))  # Hz (0: silence), seconds
VOLUME = 0.6
FADE_S = 0.01  # no click at a tone's edges


@cache
def call_sound() -> bytes:
    """The chime as a 16-bit mono WAV file; the board loops it while a call waits."""
    samples: list[int] = []
    for frequency, seconds in TONES:
        count = round(RATE * seconds)
        for i in range(count):
            edge = min(i, count - 1 - i) / (RATE * FADE_S)
            level = VOLUME * min(1.0, edge) * math.sin(2 * math.pi * frequency * i / RATE)
            samples.append(round(level * 32767))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    return out.getvalue()

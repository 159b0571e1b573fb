"""Tests of the device drivers against real parts: pty pairs from socat."""

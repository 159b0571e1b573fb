"""Figures read back from the calls and counts: response times, quality, the board, fixes."""

"""Shifts: who is on a roster's shift at a moment, and which production shift a moment is in."""

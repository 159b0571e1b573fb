"""Tests of the edge agent's parts."""

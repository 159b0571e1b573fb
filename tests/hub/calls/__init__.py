"""Tests of the hub's calls room."""

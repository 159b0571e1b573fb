"""Benchmarks: each prints one JSON object; run them with ``andon bench ...``."""

"""The contract every side reads: wire models, configuration loading, MQTT and network helpers.

This package imports none of ``hub``, ``edge``, ``drivers`` or ``andon``; see
docs/architecture.md for who may import whom.
"""

"""The hub's configuration file as pydantic models: the plant, escalation, measurements."""

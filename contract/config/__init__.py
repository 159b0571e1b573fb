"""Configuration: YAML files validated into pydantic models, with errors that point at lines."""

"""Edge andon and real-time anomaly service: shared contract, configuration and CLI."""

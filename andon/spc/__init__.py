"""The engineer-facing SPC commands: ``andon spc eval`` and ``andon spc backtest``."""

"""The charts ``andon spc eval`` draws, by name: kept apart so the CLI starts fast."""

CHARTS = ("imr", "xbar-r", "xbar-s", "p", "np", "c", "u", "ewma", "cusum")

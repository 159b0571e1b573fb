"""The chart names the SPC commands accept, apart from the code that draws them (so that
parsing ``andon``'s arguments does not load scipy)."""

CHARTS = ("imr", "xbar-r", "xbar-s", "p", "np", "c", "u", "ewma", "cusum")

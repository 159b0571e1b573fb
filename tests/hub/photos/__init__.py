"""Photos on calls."""

"""Machines as their edges report them: state periods (downtime), part counts, fault calls."""

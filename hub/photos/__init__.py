"""Photos on calls: images checked, stripped of their metadata and re-encoded, then kept
under the hub's data directory with a row each in the database."""

"""Measurements on a path of their own: intake in a worker process, SPC points, readings and
quality counts in the database, and news of what was stored."""

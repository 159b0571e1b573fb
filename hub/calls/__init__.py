"""Calls: the lifecycle, the repository, station events applied to calls, their rows, news."""

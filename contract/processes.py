"""Stopping a child process: the servers the commands start (broker, time-series
database, socat) and the services the benchmarks run."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen[bytes], *, timeout_s: float) -> None:
    """Ask ``process`` to end (SIGTERM), and kill it if it has not within ``timeout_s``."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()

"""systemd's service notifications: ready once the API answers, then a watchdog ping
for as long as ``/healthz`` answers.

systemd sets ``NOTIFY_SOCKET`` (``Type=notify``) and ``WATCHDOG_USEC`` (``WatchdogSec=``)
for the service; without them nothing here runs. The ping goes out when ``/healthz``
answers at all, 200 or 503: a hung event loop or a dead API stops the pings and systemd
restarts the hub, while a broker or database outage, which a restart would not cure,
stays visible in ``/healthz`` and the metrics instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Callable

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_S = 5.0


def notify_socket() -> str | None:
    """The socket systemd listens on for this service, if it gave one."""
    return os.environ.get("NOTIFY_SOCKET") or None


def watchdog_interval_s() -> float | None:
    """Half the watchdog timeout systemd set, as its documentation advises; or None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    return int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 else None


def notify(message: str) -> None:
    """Send one notification (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``) to systemd."""
    address = notify_socket()
    if address is None:
        return
    if address.startswith("@"):  # an abstract socket: a NUL byte, not an "@", in its name
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(message.encode(), address)


def health_answers(url: str) -> bool:
    """True when ``url`` answers with 200 or 503: the hub's API is alive."""
    try:
        with urllib.request.urlopen(url, timeout=HEALTH_TIMEOUT_S) as response:  # noqa: S310  # our own loopback URL
            return int(response.status) == 200
    except urllib.error.HTTPError as exc:
        return exc.code == 503
    except OSError:
        return False


async def run_watchdog(*, health_url: str, started: Callable[[], bool]) -> None:
    """Tell systemd when the API is up, then ping its watchdog while /healthz answers."""
    if notify_socket() is None:
        return
    # uvicorn keeps a flag, not an event, for "listening".
    while not started():  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    notify("READY=1")
    interval = watchdog_interval_s()
    if interval is None:
        return
    was_answering = True
    while True:
        answering = await asyncio.to_thread(health_answers, health_url)
        if answering:
            notify("WATCHDOG=1")
        elif was_answering:
            log.error("%s does not answer: watchdog pings stop until it does", health_url)
        was_answering = answering
        await asyncio.sleep(interval)

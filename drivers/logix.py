"""An Allen-Bradley ControlLogix or CompactLogix controller read through pylogix.

Tags are named as the controller names them (``drivers/logix_config.py``). ``read_tags``
reads a set of tags in multi-service requests (CIP's Multiple Service Packet, split by
pylogix to fit the connection's size); the first read of a tag learns its type from
the controller, so values come back as the tag holds them: BOOL as a bool, SINT, INT,
DINT and LINT as integers, REAL as a float, STRING as text, a bit of an integer
(``Flags.5``) as a bool. A write goes as the tag's own type (a bit of an integer with
the controller's read-modify-write service, so the other bits are left alone); a
light's outputs go together in multi-service requests.

pylogix is a blocking client: each request runs in a worker thread, one at a time
(the poller and the lights share the driver and its one connection). It reconnects by
itself on the next request after a failure; this driver lets that request go out on
the schedule every polled device keeps (``contract.backoff.Outage``): tried again within
a second however long the controller is away, the outage logged when it starts, then at
growing intervals.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from pylogix import PLC

from contract.backoff import Backoff, Outage, Report
from drivers.errors import DeviceMisconfigured, DeviceUnavailable
from drivers.logix_config import LogixConfig
from drivers.tags import Value

log = logging.getLogger(__name__)

T = TypeVar("T")

SUCCESS = "Success"
# What a value of each configured type must be (a configuration's ``type`` is optional
# on Logix: the tag has its own, and one given must agree with it).
TYPE_CHECKS: dict[str, Callable[[Value], bool]] = {
    "bool": lambda value: isinstance(value, bool),
    "string": lambda value: isinstance(value, str),
    "float32": lambda value: isinstance(value, float),
    "float64": lambda value: isinstance(value, float),
}
INTEGER_TYPES = ("int16", "uint16", "int32", "uint32", "int64", "uint64")


def _integer(value: Value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class LogixDriver:
    """One Logix controller: a ``PolledTagDriver``. ``types`` gives the type (and length,
    unused here) the configuration expects of some addresses; a tag that holds another
    is refused (DeviceMisconfigured) rather than read as something it is not."""

    def __init__(
        self,
        config: LogixConfig,
        types: Mapping[str, tuple[str, int | None]] | None = None,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.config = config
        self.connects = 0
        self.requests = 0
        self._types = {address: kind for address, (kind, _) in (types or {}).items()}
        self._plc = PLC(config.host, slot=config.slot, timeout=config.timeout_s, port=config.port)
        # pylogix keeps one socket and its state in the PLC object: one request at a
        # time, held by the thread that makes it (a cancelled await leaves it running).
        self._lock = threading.Lock()
        self._open = False
        self._outage = Outage(remind_cap_s=config.backoff_cap_s, tries=backoff)

    @property
    def up(self) -> bool:
        return self._outage.up

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def disconnect(self) -> None:
        self._open = False
        await asyncio.to_thread(self._locked, self._close)

    async def read_tags(self, addresses: Sequence[str]) -> dict[str, Value]:
        """The value of each address, in as few requests as the connection allows."""
        names = list(dict.fromkeys(addresses))
        if not names:
            return {}
        # One tag is one plain read: no multi-service packet around it.
        request = (lambda: [self._plc.Read(names[0])]) if len(names) == 1 else None
        responses = await self._call(request or (lambda: self._plc.Read(names)))
        values: dict[str, Value] = {}
        refused: list[str] = []
        for name, response in zip(names, responses, strict=True):
            status = str(response.Status)
            if status != SUCCESS or response.Value is None:
                refused.append(f"{name}: {status}")
                continue
            value = response.Value
            if not isinstance(value, bool | int | float | str):
                refused.append(f"{name}: a structure, not a value (name one of its members)")
                continue
            problem = self._type_problem(name, value)
            if problem is not None:
                refused.append(problem)
                continue
            values[name] = value
        if refused:
            raise DeviceMisconfigured(f"{self.config.id}: {'; '.join(refused)}")
        return values

    async def write_tags(self, values: Mapping[str, Value]) -> None:
        """Write several tags (a light's outputs) in multi-service requests, each in its
        own type; DeviceMisconfigured naming every one the controller refused."""
        if len(values) < 2:
            for address, value in values.items():
                await self.write_tag(address, value)
            return
        writes = list(values.items())
        responses = await self._call(lambda: self._plc.Write(writes))
        refused = [
            f"writing {address}: {response.Status}"
            for (address, _), response in zip(writes, responses, strict=True)
            if str(response.Status) != SUCCESS
        ]
        if refused:
            raise DeviceMisconfigured(f"{self.config.id}: {'; '.join(refused)}")

    async def write_tag(self, address: str, value: Value) -> None:
        """Write one tag, converted by pylogix to the tag's own type on the controller."""
        response = await self._call(lambda: self._plc.Write(address, value))
        status = str(response.Status)
        if status != SUCCESS:
            raise DeviceMisconfigured(f"{self.config.id}: writing {address}: {status}")

    def _type_problem(self, address: str, value: Value) -> str | None:
        given = self._types.get(address)
        if given is None:
            return None
        check = _integer if given in INTEGER_TYPES else TYPE_CHECKS.get(given)
        if check is None or check(value):
            return None
        return f"{address} holds {type(value).__name__} {value!r}, not the {given} configured"

    async def _call(self, request: Callable[[], T]) -> T:
        started = time.monotonic()
        if not self._open and not self._outage.may_try(started):
            raise DeviceUnavailable(f"{self.config.id}: not connected (tried again shortly)")
        try:
            result, connected = await asyncio.to_thread(self._locked, self._requested(request))
        except Exception as exc:  # pylogix lets a malformed reply's errors out
            await asyncio.to_thread(self._locked, self._close)
            result, connected = None, False
            why = f"the connection broke: {_why(exc)}"
        else:
            why = _status_of(result)
        if not connected:
            self._open = False
            self._failed(started, why)
            raise DeviceUnavailable(f"{self.config.id}: {why}")
        if not self._open:
            self._open = True
            self.connects += 1
        self.requests += 1
        if self._outage.succeeded():
            log.warning("Logix controller %s answers again", self.config.id)
        assert result is not None  # connected: pylogix answered
        return result

    def _requested(self, request: Callable[[], T]) -> Callable[[], tuple[T, bool]]:
        """The request, and whether pylogix's connection stood through it."""

        def run() -> tuple[T, bool]:
            result = request()
            return result, bool(self._plc.conn.SocketConnected)

        return run

    def _close(self) -> None:
        close_client(self._plc)

    def _locked(self, call: Callable[[], T]) -> T:
        with self._lock:
            return call()

    def _failed(self, started: float, why: str) -> None:
        report = self._outage.failed(started=started, now=time.monotonic())
        config = self.config
        if report is Report.DOWN:
            log.warning("Logix controller %s (%s:%d) is down: %s", config.id, config.host,
                        config.port, why)  # fmt: skip
        elif report is Report.STILL_DOWN:
            log.warning(
                "Logix controller %s is still down after %d tries", config.id, self._outage.tries
            )


def close_client(plc: PLC) -> None:
    """Close pylogix's connection, and the listening socket it makes with every client
    and never closes (it serves only ``PLC.Message``, which nothing here uses)."""
    plc.Close()
    plc.conn.msg_socket.close()


def _status_of(result: Any) -> str:
    """Why a request whose connection fell failed, from pylogix's answer."""
    first = result[0] if isinstance(result, list) and result else result
    status = getattr(first, "Status", None)
    if status in (None, ""):
        return "no answer"
    return str(status).removeprefix("Unknown error ")  # pylogix's words around an OSError


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__

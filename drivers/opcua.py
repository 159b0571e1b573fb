"""OPC UA servers on asyncua: tags read and written by NodeId, inputs as a subscription.

A device's inputs are monitored items of one subscription: the server sends each change
as it happens, not when we ask. Every change is delivered, in order: each item queues up
to ``QUEUE_SIZE`` changes between two publishes (discarding the oldest only beyond
that), so a press and its release within one publishing interval both arrive.

Reconnecting is ours (asyncua's own reconnect is off), on the schedule every polled
device uses (``contract.backoff.Outage``): tried again within a second however long the
server was away, and the log says so on changes of state and in reminders that back
off. After a reconnect the subscription is made anew; its first notification of each
item is the value the server holds now, so a press made while the server was away is
not invented, and one still held is seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.common.subscription import DataChangeEvent, StatusChangeEvent, Subscription
from asyncua.crypto import security_policies
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.uaerrors import UaError, UaStatusCodeError

from contract.backoff import Backoff, Outage, Report
from contract.secrets import SecretMissing
from drivers.errors import DeviceMisconfigured, DeviceUnavailable
from drivers.opcua_config import OpcUaConfig
from drivers.opcua_security import load_identity
from drivers.opcua_values import VALUE_TYPES, as_variant_value, good_value
from drivers.tags import ChangeSink, Monitored, Value

log = logging.getLogger(__name__)

# Changes an item keeps between two publishes: presses are a few changes a second at
# most; a measurement sampled fast beside a slow publishing interval drops its oldest.
QUEUE_SIZE = 100
# Changes kept on our side of the connection while the edge is busy.
CLIENT_QUEUE = 10_000
# How often the subscription loop looks at the connection.
CONNECTION_CHECK_S = 0.2

# asyncua logs a lost connection's failed publish with its traceback, and the closing of
# each connection that failed, at every try while a server is away; the driver says the
# server is down in lines of its own (``Report``), so those go. A filter applies to the
# logger a record is made on, not to its parents: hence the loggers one by one.
ASYNCUA_PER_LOSS = (
    "Publish iteration crashed",
    "close_session was called but connection is closed",
    "close_secure_channel was called but connection is closed",
)
ASYNCUA_LOGGERS = ("asyncua.client.ua_session.UaSession", "asyncua.client.ua_client.UaClient")


class QuietLosses(logging.Filter):
    """Drops asyncua's own lines about each lost connection (``ASYNCUA_PER_LOSS``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(ASYNCUA_PER_LOSS)


_QUIET_LOSSES = QuietLosses()
# Asked for when connecting: how long the server keeps our session after a loss. Servers
# shorten what they find too long, and asyncua logs a warning whenever they do.
SESSION_TIMEOUT_MS = 60_000

_POLICIES: dict[str, type[security_policies.SecurityPolicy]] = {
    "Basic256Sha256": security_policies.SecurityPolicyBasic256Sha256,
    "Aes128_Sha256_RsaOaep": security_policies.SecurityPolicyAes128Sha256RsaOaep,
    "Aes256_Sha256_RsaPss": security_policies.SecurityPolicyAes256Sha256RsaPss,
}
# What a failed request or connection raises underneath.
_TRANSPORT_ERRORS = (OSError, TimeoutError, ConnectionError, UaError)


class OpcUaDriver:
    """One OPC UA server: a client session, opened by ``connect()`` or kept by ``run()``."""

    def __init__(self, config: OpcUaConfig, *, backoff: Backoff | None = None) -> None:
        self.config = config
        self.connects = 0
        self._client: Client | None = None
        self._outage = Outage(remind_cap_s=config.backoff_cap_s, tries=backoff)
        self._types: dict[str, ua.VariantType] = {}
        for name in ASYNCUA_LOGGERS:
            logging.getLogger(name).addFilter(_QUIET_LOSSES)  # once: it is the same filter

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

    async def connect(self) -> None:
        """Open a session; DeviceUnavailable (or DeviceMisconfigured) when it cannot."""
        await self.disconnect()
        config = self.config
        client = Client(config.endpoint, timeout=config.timeout_s)
        client.session_timeout = SESSION_TIMEOUT_MS
        try:
            async with asyncio.timeout(config.timeout_s * 2):
                await self._secure(client)
                await client.connect(auto_reconnect=False)
        except _TRANSPORT_ERRORS as exc:
            await _quietly_disconnect(client)
            raise DeviceUnavailable(f"{config.id}: cannot connect: {_why(exc)}") from exc
        self.connects += 1
        self._client = client

    async def _secure(self, client: Client) -> None:
        config = self.config
        try:
            user = config.resolved_user()
        except SecretMissing as exc:
            raise DeviceMisconfigured(f"{config.id}: {exc}") from None
        if user is not None:
            client.set_user(user[0])
            client.set_password(user[1])
        if config.security_policy == "None":
            return
        certificate, private_key = config.certificate, config.private_key
        assert certificate is not None  # checked with the configuration, as is the key
        assert private_key is not None
        identity = load_identity(certificate, private_key)
        client.application_uri = identity.application_uri
        await client.set_security(
            _POLICIES[config.security_policy],
            identity.certificate_der,
            identity.private_key_der,
            mode=ua.MessageSecurityMode[config.security_mode],
        )

    async def disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await _quietly_disconnect(client)

    @property
    def client(self) -> Client:
        """The connected client (for browsing); DeviceUnavailable when there is none."""
        return self._connected()

    def _connected(self) -> Client:
        client = self._client
        if client is None or client.state is not UaClientState.CONNECTED:
            raise DeviceUnavailable(f"{self.config.id}: not connected")
        return client

    async def read_tags(self, addresses: Sequence[str]) -> dict[str, Value]:
        """The value of each address, in one request; DeviceMisconfigured names the first
        that the server refused or that is no scalar the edge takes."""
        client = self._connected()
        nodes = [client.get_node(address) for address in addresses]
        try:
            results = await client.read_attributes(nodes, AttributeIds.Value)
        except _TRANSPORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.config.id}: {_why(exc)}") from exc
        values: dict[str, Value] = {}
        for address, result in zip(addresses, results, strict=True):
            values[address] = self._scalar(address, result)
        return values

    def _scalar(self, address: str, result: ua.DataValue) -> Value:
        status = result.StatusCode
        if status is not None and not status.is_good():
            raise DeviceMisconfigured(f"{self.config.id}: {address}: {status.name}")
        variant = result.Value
        if variant is None or variant.VariantType not in VALUE_TYPES or variant.is_array:
            kind = "nothing" if variant is None else variant.VariantType.name
            raise DeviceMisconfigured(f"{self.config.id}: {address}: holds {kind}, not a scalar")
        value: Value = variant.Value
        return value

    async def value_types(self, addresses: Sequence[str]) -> dict[str, str]:
        """The value type (``VALUE_TYPES``) of each variable, or its DataType's name."""
        client = self._connected()
        found: dict[str, str] = {}
        for address in addresses:
            variant_type = await self._variant_type(client, address)
            found[address] = VALUE_TYPES.get(variant_type, variant_type.name)
        return found

    async def _variant_type(self, client: Client, address: str) -> ua.VariantType:
        known = self._types.get(address)
        if known is not None:
            return known
        try:
            found = await client.get_node(address).read_data_type_as_variant_type()
        except UaStatusCodeError as exc:
            raise DeviceMisconfigured(f"{self.config.id}: {address}: {_why(exc)}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.config.id}: {_why(exc)}") from exc
        self._types[address] = found
        return found

    async def write_tag(self, address: str, value: Value) -> None:
        """Write ``value`` as the variable's own DataType (a light's 0/1 as a Boolean)."""
        await self.write_tags({address: value})

    async def write_tags(self, values: Mapping[str, Value]) -> None:
        """Write several variables in one Write request (a light's outputs), each as its
        own DataType; DeviceMisconfigured naming every one the server refused."""
        client = self._connected()
        nodes, variants = [], []
        for address, value in values.items():
            variant_type = await self._variant_type(client, address)
            typed = as_variant_value(value, variant_type)
            if typed is None:
                raise DeviceMisconfigured(
                    f"{self.config.id}: {address} is a {variant_type.name}: cannot write {value!r}"
                )
            nodes.append(client.get_node(address))
            variants.append(ua.Variant(typed, variant_type))
        try:
            results = await client.write_values(nodes, variants, raise_on_partial_error=False)
        except UaStatusCodeError as exc:  # the request as a whole refused
            raise DeviceMisconfigured(f"{self.config.id}: write: {_why(exc)}") from exc
        except _TRANSPORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.config.id}: {_why(exc)}") from exc
        refused = [
            f"write {address}: {result.name}"
            for address, result in zip(values, results, strict=True)
            if not result.is_good()
        ]
        if refused:
            raise DeviceMisconfigured(f"{self.config.id}: {'; '.join(refused)}")

    # -- the subscription ---------------------------------------------------------------

    async def run(self, items: Sequence[Monitored], sink: ChangeSink) -> None:
        """Keep a session and a subscription of ``items`` until cancelled."""
        try:
            while True:
                started = time.monotonic()
                if not self._outage.may_try(started):
                    await asyncio.sleep(self._outage.retry_at - started)
                    continue
                try:
                    await self.connect()
                    subscription = await self._subscribe(items, sink)
                except (DeviceUnavailable, DeviceMisconfigured) as exc:
                    self._down(str(exc), started, sink)
                    await self.disconnect()
                    continue
                self._up(sink)
                try:
                    reason = await self._deliver(subscription, items, sink)
                except (DeviceUnavailable, StopAsyncIteration) as exc:
                    # Lost between subscribing and listening, or the subscription closed.
                    reason = str(exc) or "subscription closed"
                self._down(reason, time.monotonic(), sink)
                await self.disconnect()
        finally:
            await self.disconnect()

    async def _subscribe(self, items: Sequence[Monitored], sink: ChangeSink) -> Subscription:
        client = self._connected()
        items = await self._typed(items, sink)
        try:
            subscription = await client.create_subscription(
                self.config.publishing_interval_ms, None, queue_maxsize=CLIENT_QUEUE
            )
            # One request per sampling interval asked for (mostly one).
            by_interval: dict[float, list[Monitored]] = {}
            for item in items:
                by_interval.setdefault(item.sampling_interval_ms, []).append(item)
            for interval, group in by_interval.items():
                nodes = [client.get_node(item.address) for item in group]
                results = await subscription.subscribe_data_change(
                    nodes, queuesize=QUEUE_SIZE, sampling_interval=ua.Double(interval)
                )
                for item, result in zip(group, results, strict=True):
                    if isinstance(result, ua.StatusCode):
                        sink.refused(item.address, result.name)
        except _TRANSPORT_ERRORS as exc:
            raise DeviceUnavailable(f"{self.config.id}: cannot subscribe: {_why(exc)}") from exc
        return subscription

    async def _typed(self, items: Sequence[Monitored], sink: ChangeSink) -> list[Monitored]:
        """``items`` but those whose variable is not of the type configured (refused)."""
        expected = {item.address: item.value_type for item in items if item.value_type}
        found: dict[str, str] = {}
        for address in expected:
            try:
                found |= await self.value_types([address])
            except DeviceMisconfigured as exc:
                found[address] = str(exc)  # an unknown node: the subscription says so too
        kept = []
        for item in items:
            actual = found.get(item.address)
            if item.value_type is not None and actual != item.value_type:
                sink.refused(item.address, f"its DataType is {actual}, not {item.value_type}")
            else:
                kept.append(item)
        return kept

    async def _deliver(
        self, subscription: Subscription, items: Sequence[Monitored], sink: ChangeSink
    ) -> str:
        """Hand every change to ``sink`` until the connection is lost; why it was.

        The changes are taken by a task of their own, awaiting the next without a
        timeout: a burst already queued is handed on without a turn of the event loop
        per change (a timeout on each wait made a task per change). This task looks at
        the connection meanwhile."""
        client = self._connected()
        addresses: dict[ua.NodeId, list[str]] = {}
        for item in items:
            addresses.setdefault(client.get_node(item.address).nodeid, []).append(item.address)
        taking = asyncio.ensure_future(_take(subscription, addresses, sink))
        try:
            while True:
                done, _ = await asyncio.wait([taking], timeout=CONNECTION_CHECK_S)
                if client.state is not UaClientState.CONNECTED:
                    return "connection lost"  # a server shutting down says so first
                if done:
                    return taking.result()
        finally:
            taking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await taking

    def _down(self, reason: str, started: float, sink: ChangeSink) -> None:
        now = time.monotonic()
        report = self._outage.failed(started=started, now=now)
        if report is Report.DOWN:
            log.warning("device %s is down: %s", self.config.id, reason)
        elif report is Report.STILL_DOWN:
            since = now - self._outage.since
            log.warning("device %s still down after %.0f s: %s", self.config.id, since, reason)
        sink.state(up=False, reason=reason)

    def _up(self, sink: ChangeSink) -> None:
        down_s = time.monotonic() - self._outage.since
        if self._outage.succeeded():
            log.info("device %s is up again after %.1f s", self.config.id, down_s)
        sink.state(up=True, reason="")


async def _take(
    subscription: Subscription, addresses: Mapping[ua.NodeId, list[str]], sink: ChangeSink
) -> str:
    """Hand each change of ``subscription`` to ``sink`` until its status is bad or it
    closes; why it ended."""
    async for event in subscription:
        if isinstance(event, StatusChangeEvent):
            status = event.notification.Status
            if status is not None and not status.is_good():
                return f"subscription ended: {status.name}"
        elif isinstance(event, DataChangeEvent):
            value = good_value(event)
            for address in addresses.get(event.node.nodeid, ()):
                sink.changed(address, value)
    return "subscription closed"


def _why(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


async def _quietly_disconnect(client: Client) -> None:
    """Close a session that may be half open or already gone; nothing to report."""
    try:
        async with asyncio.timeout(1.0):
            await client.disconnect()
    except (*_TRANSPORT_ERRORS, RuntimeError, AttributeError):
        log.debug("disconnect of %s failed", client.server_url.geturl(), exc_info=True)

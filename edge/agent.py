"""The edge agent: poll devices, store events in the outbox, publish the outbox over MQTT.

OPC UA servers push their changes through subscriptions (``edge.subscribing``) beside
the polling; S7 PLCs are polled by address (``edge.tag_polling``). Polling never waits
for the broker (events go to the durable outbox) and publishing drains the outbox in
order whenever the broker is up (``edge.delivery``); the hub's light commands, or the
edge's own fallback, drive the stations' lights (``edge.station_lights``). ``stop()``
(or cancelling ``run()``) stops polling within one device call, then gives the
publisher a moment to flush the outbox, then closes the devices; ``reload()`` swaps in
a new configuration file (and SPC rule file) if it is valid and otherwise keeps polling
with the old one. A change to either file reloads the agent by itself within a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

from contract.config.loading import ConfigInvalid
from contract.wire import Topics
from drivers import open_devices
from edge.config import EdgeConfig, load_edge_config
from edge.delivery import Delivery
from edge.listening import SerialListener
from edge.outbox import Outbox
from edge.recorder import Recorder
from edge.session import build_pollers
from edge.sparkplug_node import SparkplugNode
from edge.station_lights import StationLights
from edge.subscribing import subscribing
from edge.tag_polling import tag_polling

log = logging.getLogger(__name__)

FLUSH_ON_STOP_S = 0.5
CANCEL_ATTEMPTS = 5
CANCEL_WAIT_S = 0.5
WATCH_EVERY_S = 1.0


class EdgeAgent:
    """One agent per line; ``run()`` until ``stop()`` or cancelled."""

    def __init__(self, config: EdgeConfig, *, config_path: Path | None = None) -> None:
        self.config = config
        self.config_path = config_path
        self.topics = Topics(config.broker.topic_prefix)
        self.outbox = Outbox(
            config.outbox.path,
            max_droppable=config.outbox.max_measurements,
            max_droppable_bytes=int(config.outbox.max_measurements_mb * 1024 * 1024),
        )
        self.recorder = Recorder(config, self.outbox, self.topics)
        self.lights = StationLights(config, self.recorder.fault)
        self.recorder.on_call = self.lights.local_call
        self.recorder.on_device_back = self.lights.device_back
        self.delivery = Delivery(
            config=config, outbox=self.outbox, recorder=self.recorder, lights=self.lights
        )
        self.sparkplug: SparkplugNode | None = None
        if config.sparkplug is not None:
            self.sparkplug = node = SparkplugNode(config, state_dir=config.outbox.path.parent)
            self.recorder.sparkplug = node
            self.lights.on_light = lambda station, command: node.light(station, command.colour)
        self.reloads = 0
        self.refused_reloads = 0  # the running configuration is the last good one
        self.polling = asyncio.Event()
        self.listener: SerialListener | None = None
        self._attention = asyncio.Event()
        self._stop_requested = False
        self._reload_requested = False

    def stop(self) -> None:
        """Stop polling, flush the outbox briefly and return from ``run()``."""
        self._stop_requested = True
        self._attention.set()

    def reload(self) -> None:
        """Read the configuration file again; keep the old one if the new one is invalid."""
        self._reload_requested = True
        self._attention.set()

    async def run(self) -> None:
        """Start publishing first, then polling; stop both on ``stop()`` or cancellation."""
        try:
            async with asyncio.TaskGroup() as tasks:
                publisher = tasks.create_task(self.delivery.run(), name="edge-publish")
                watcher = tasks.create_task(self._watch_file(), name="edge-config-watch")
                sparkplug = (
                    None
                    if self.sparkplug is None
                    else tasks.create_task(self.sparkplug.run(), name="edge-sparkplug")
                )
                try:
                    await self._poll_until_stopped()
                finally:
                    watcher.cancel()
                    if sparkplug is not None:
                        await _cancel_for_sure(sparkplug)
                    await self._flush()
                    self.delivery.stop()
                    await _cancel_for_sure(publisher)
        finally:
            self.outbox.close()

    async def _flush(self) -> None:
        """Give the publisher a moment to send what polling left in the outbox, and the
        hub (if it is there) to confirm it; what is left waits for the next start."""
        self.recorder.flush_measurements()
        deadline = time.monotonic() + FLUSH_ON_STOP_S
        delivery = self.delivery
        while time.monotonic() < deadline and (
            delivery.unsent or (delivery.hub_online and delivery.inflight)
        ):
            self.recorder.wakeup.set()
            await asyncio.sleep(0.02)

    # -- polling -----------------------------------------------------------------------

    async def _poll_until_stopped(self) -> None:
        config: EdgeConfig | None = self.config
        while config is not None:
            self.config = config
            config = await self._poll_session(config)

    async def _poll_session(self, config: EdgeConfig) -> EdgeConfig | None:
        """Poll with ``config`` until a stop (None) or a valid reload (the new config)."""
        self.recorder.configure(config)
        self.lights.configure(config)
        if self.sparkplug is not None:
            self.sparkplug.configure(config)
        self.listener = listener = SerialListener(config, self.recorder)
        async with (
            open_devices(config.devices) as drivers,
            listener.running(),
            subscribing(config, self.recorder) as subscribed,
            tag_polling(config, self.recorder) as by_address,
            self.lights.running({**drivers, **subscribed, **by_address}),
        ):
            pollers = build_pollers(config, drivers, self.recorder)
            async with asyncio.TaskGroup() as polls:
                tasks = [polls.create_task(p.run(), name=f"edge-poll {p.name}") for p in pollers]
                self.polling.set()
                try:
                    return await self._next_config()
                finally:
                    self.polling.clear()
                    for poller, task in zip(pollers, tasks, strict=True):
                        poller.stop.set()
                        task.cancel()

    async def _next_config(self) -> EdgeConfig | None:
        while True:
            await self._attention.wait()
            self._attention.clear()
            if self._stop_requested:
                return None
            if self._reload_requested:
                self._reload_requested = False
                new = self._load_new_config()
                if new is not None:
                    return new

    def _load_new_config(self) -> EdgeConfig | None:
        if self.config_path is None:
            log.warning("reload asked for, but the agent was not started from a file")
            return None
        try:
            new = load_edge_config(self.config_path)
        except ConfigInvalid as exc:
            # One line for the whole refusal, naming the files, so a log search for the
            # rule file finds why its change did not take.
            log.error(
                "%s: reload refused, keeping the running configuration: %s",
                _files(self.config_path, self.config),
                "; ".join(str(issue) for issue in exc.issues),
            )
            self.refused_reloads += 1
            return None
        if (new.broker, new.outbox, new.edge_id, new.sparkplug) != (
            self.config.broker,
            self.config.outbox,
            self.config.edge_id,
            self.config.sparkplug,
        ):
            log.warning(
                "broker, outbox, edge_id and sparkplug changes take effect at the next restart"
            )
        self.reloads += 1
        log.info("%s: reloaded", _files(self.config_path, new))
        return new.model_copy(
            update={
                "broker": self.config.broker,
                "outbox": self.config.outbox,
                "edge_id": self.config.edge_id,
                "sparkplug": self.config.sparkplug,
            }
        )

    def watched_files(self) -> list[Path]:
        """The files whose change reloads the agent: its configuration file and the SPC
        rule file the running configuration names."""
        if self.config_path is None:
            return []
        spc = self.config.spc
        return [self.config_path] + ([spc.rule_file] if spc is not None else [])

    async def _watch_file(self) -> None:
        """Reload when a watched file changes (checked once a second). A file that the
        running configuration starts to name after a reload is watched from then on."""
        if self.config_path is None:
            return
        stamps = {path: _stamp(path) for path in self.watched_files()}
        while True:
            await asyncio.sleep(WATCH_EVERY_S)
            changed = []
            for path in self.watched_files():
                stamp = _stamp(path)
                if path in stamps and stamps[path] != stamp:
                    changed.append(path)
                stamps[path] = stamp
            if changed:
                log.info("%s changed", ", ".join(map(str, changed)))
                self.reload()


def _files(config_path: Path, config: EdgeConfig) -> str:
    """The configuration file, and the rule file ``config`` names, for the log."""
    if config.spc is None:
        return str(config_path)
    return f"{config_path} (rule file {config.spc.rule_file})"


async def _cancel_for_sure(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it, cancelling again if the cancellation got lost.

    On Python 3.11 aiomqtt awaits the broker with ``asyncio.wait_for``, which can swallow
    a cancellation that lands as the awaited future completes; the task then goes on."""
    for _ in range(CANCEL_ATTEMPTS):
        task.cancel()
        done, _pending = await asyncio.wait({task}, timeout=CANCEL_WAIT_S)
        if done:
            return
    log.error("task %s did not stop", task.get_name())


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    # A copy over the file (cp, an editor saving to a new file and renaming it) may keep
    # its size and land within the clock's tick: the inode number tells it apart.
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)

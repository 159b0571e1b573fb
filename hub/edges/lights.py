"""Each station's tower light, published by the hub (retained, one topic per station).

Whenever a station's calls change (``CallChanges``), its light is worked out again from
its open calls in the database (``rules.lights.station_light``) and published; at every
connect every station's light is published, so a new or restarted edge finds them all.
``line_stop`` is on while an open call of the station has had its line-stop output
commanded by escalation (``calls.line_stop_at``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable

import aiomqtt
from sqlalchemy import select

from contract.backoff import Backoff
from contract.mqtt import mqtt_client
from contract.wire import LightCommand, Topics, utc_now
from hub.calls.lifecycle import OPEN_STATES
from hub.calls.news import CallChanges
from hub.calls.repository import Store
from hub.db.tables import calls
from hub.process.live_config import LiveConfig
from rules.lights import OpenCall, station_light

log = logging.getLogger(__name__)

StationKey = tuple[str, str, str]  # area, line, station


class LightPublisher:
    """Publishes light commands until cancelled; reconnects on its own."""

    def __init__(self, *, config: LiveConfig, store: Store, changes: CallChanges) -> None:
        self.config = config
        self.store = store
        self.changes = changes
        self.published = 0
        # What each station's light last said (without its time): a change of calls that
        # leaves the light as it was (a press joining an open call) publishes nothing.
        self._last: dict[StationKey, LightCommand] = {}
        # The site's stations, built once per configuration: at 10,000 stations building
        # the set took milliseconds of the event loop the calls arrive on, at every change.
        self._known: tuple[object, set[StationKey]] = (None, set())

    async def run(self) -> None:
        backoff = Backoff(initial=0.2, cap=10.0)
        with self.changes.listen() as queue:
            while True:
                config = self.config.current
                client = mqtt_client(
                    config.broker, identifier=f"{config.mqtt_client_id}-lights", persistent=False
                )
                try:
                    async with client:
                        backoff.reset()
                        self._last.clear()  # every station's light at each connect
                        await self._publish(client, config.station_keys())
                        while True:
                            first = await queue.get()
                            more = [queue.get_nowait() for _ in range(queue.qsize())]
                            stations = {(c.area, c.line, c.station) for c in [first, *more]}
                            await self._publish(client, stations)
                except aiomqtt.MqttError as exc:
                    broker = self.config.current.broker
                    log.warning(
                        "light commands: no connection to broker %s:%s: %s",
                        broker.host,
                        broker.port,
                        exc,
                    )
                    await asyncio.sleep(backoff.next_delay())

    async def _publish(self, client: aiomqtt.Client, stations: Iterable[StationKey]) -> None:
        config = self.config.current
        if self._known[0] is not config:
            self._known = (config, config.station_keys())
        wanted = sorted(set(stations) & self._known[1])
        if not wanted:
            return
        lights = await asyncio.to_thread(self.lights, wanted)
        topics = Topics(config.broker.topic_prefix)
        for key, command in lights.items():
            last = self._last.get(key)
            if last is not None and last.model_copy(update={"ts": command.ts}) == command:
                continue
            self._last[key] = command
            topic = topics.light(config.site, *key)
            await client.publish(topic, command.model_dump_json(), qos=1, retain=True)
            self.published += 1

    def lights(self, stations: list[StationKey]) -> dict[StationKey, LightCommand]:
        """The light command of each of ``stations`` from its open calls now."""
        line_down = self.config.current.line_down_call_types()
        open_calls: dict[StationKey, list[tuple[OpenCall, bool]]] = defaultdict(list)
        query = select(
            calls.c.area, calls.c.line, calls.c.station, calls.c.state, calls.c.call_type,
            calls.c.line_stop_at,
        ).where(
            calls.c.site == self.config.current.site,
            calls.c.station.in_({station for _, _, station in stations}),
            calls.c.state.in_(OPEN_STATES),
        )  # fmt: skip
        with self.store.read() as conn:
            for row in conn.execute(query):
                call = OpenCall(str(row.state), line_down=row.call_type in line_down)
                open_calls[(row.area, row.line, row.station)].append(
                    (call, row.line_stop_at is not None)
                )
        now = utc_now()
        commands = {}
        for key in stations:
            found = open_calls.get(key, [])
            light = station_light(call for call, _ in found)
            commands[key] = LightCommand(
                colour=light.colour.value,
                flashing=light.flashing,
                buzzer=light.buzzer,
                state=light.state,
                line_stop=any(stop for _, stop in found),
                ts=now,
            )
        return commands

"""The hub's configuration file, as pydantic models."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationError

from contract.config.loading import (
    ConfigInvalid,
    ConfigIssue,
    Problem,
    duplicates,
    read_document,
    validate_document,
)
from contract.config.models import BrokerConfig, Strict
from contract.config.yaml_source import YamlDocument
from contract.wire import Name
from hub.config.auth import AuthConfig, auth_problems
from hub.config.clock import ClockTime, TimeZone
from hub.config.escalation import (
    EscalationConfig,
    PersonConfig,
    RosterConfig,
    escalation_problems,
    unescalated_call_types,
)
from hub.config.measurements import MeasurementsConfig, measurement_problems
from hub.config.sparkplug import SparkplugHostConfig, sparkplug_problems, with_spc_rules

Language = Literal["en", "zh"]
"""The languages of the hub's pages."""


class Named(Strict):
    """Something people see by name: ``name`` in any language, ``names`` per language.

    A page in Chinese shows ``names.zh``, else ``name``, else the id."""

    id: Name
    name: str | None = None
    names: dict[Language, str] = Field(default_factory=dict)

    def label(self, language: str) -> str:
        found = next((text for key, text in self.names.items() if key == language), None)
        return found or self.name or self.id


class StationConfig(Named):
    pass


class LineConfig(Named):
    """A line and its stations; ``edges`` are the ids of the edge agents that speak for
    it. Listed, the hub takes the line's events and measurements from those edges only
    (the topic proves which one sent them); left out, from any edge, as hubs before did."""

    stations: list[StationConfig] = Field(min_length=1)
    edges: list[Name] = Field(default_factory=list)


class AreaConfig(Named):
    lines: list[LineConfig] = Field(min_length=1)


class ProductionShiftConfig(Named):
    """A production shift, ``start`` to ``end`` every day (the next day when end < start),
    in ``timezone`` (default: the site's). Reports count each call in the shift it was
    raised in; the first matching shift wins."""

    start: ClockTime
    end: ClockTime
    timezone: TimeZone | None = None


class StorageConfig(Strict):
    """SQLite at ``path`` by default; ``url`` (an SQLAlchemy URL) selects another database."""

    path: Path = Path("var/hub.sqlite3")
    url: str | None = Field(
        default=None,
        description="e.g. postgresql+psycopg://andon:{env:ANDON_DB_PASSWORD}@db.lan/andon",
    )


class ApiConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    metrics_token: str | None = Field(
        default=None,
        description="bearer token that lets a scraper off loopback read /metrics",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="a request body larger than this is refused (413) before it is read",
    )


class PhotosConfig(Strict):
    """Photos on calls: where they are kept, and how much the hub takes."""

    directory: Path | None = Field(
        default=None,
        description="where photos are kept; default: photos/ beside the SQLite file (storage.path)",
    )
    max_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=512 * 1024 * 1024,
        description="an upload larger than this is refused (413) while it arrives",
    )
    max_pixels: int = Field(
        default=50_000_000,
        ge=1,
        le=178_956_970,  # Pillow refuses above this (twice its MAX_IMAGE_PIXELS) anyway
        description="width x height of the largest image taken (a 50 MP phone picture)",
    )
    quota_bytes: int = Field(
        default=2 * 1024 * 1024 * 1024,
        ge=1024 * 1024,
        description="the photos and their thumbnails together; when full, uploads are "
        "refused (507) until an admin makes room",
    )


class TimeseriesConfig(Strict):
    """A database with the InfluxDB v2 write API (InfluxDB 2.x/3.x, VictoriaMetrics)
    that the hub copies call events, measurements and SPC points to."""

    url: str = Field(description="e.g. http://victoriametrics.lan:8428 or https://influx.lan:8086")
    org: str = "andon"
    bucket: str = "andon"
    token: str | None = Field(default=None, description='"{file:PATH}" or "{env:NAME}"')
    batch_size: int = Field(default=1000, ge=1, le=50_000)
    flush_interval_s: float = Field(default=1.0, gt=0, le=60)
    queue_size: int = Field(
        default=100_000, ge=1, description="points kept while the database is slow or away"
    )
    timeout_s: float = Field(default=10.0, gt=0, le=300)


def _call_type_entry(value: object) -> object:
    """A plain name is a call type with the defaults."""
    return {"id": value} if isinstance(value, str) else value


def _reason_code_entry(value: object) -> object:
    """A plain code is a reason code shown by its id."""
    return {"id": value} if isinstance(value, str) else value


class ReasonCodeConfig(Named):
    """Why a call was resolved; the responder picks one, reports count them."""


class CallTypeConfig(Named):
    """A kind of call a station raises; ``verify`` makes the operator confirm the fix.

    ``line_down`` marks an emergency: the station's light turns red, and while such a call
    is open the SPC alarms of its line are held back (the line is not making parts)."""

    verify: bool = False
    line_down: bool = False
    root_cause_required: bool = Field(
        default=False,
        description="resolving a recurrence of this type needs a root cause and a countermeasure",
    )


class HubConfig(Strict):
    """One hub per site."""

    site: Name
    client_id: Name | None = Field(
        default=None, description="MQTT client id; fixed so the broker keeps the session"
    )
    broker: BrokerConfig = BrokerConfig()
    shared_group: Name | None = Field(
        default=None,
        description="hubs of one site with the same group share its messages through "
        "$share/<group>/... subscriptions (several hubs on one PostgreSQL)",
    )
    storage: StorageConfig = StorageConfig()
    api: ApiConfig = ApiConfig()
    timeseries: TimeseriesConfig | None = None
    photos: PhotosConfig = PhotosConfig()
    call_types: list[Annotated[CallTypeConfig, BeforeValidator(_call_type_entry)]] = Field(
        min_length=1
    )
    reason_codes: list[Annotated[ReasonCodeConfig, BeforeValidator(_reason_code_entry)]] = Field(
        min_length=1
    )
    timezone: TimeZone = Field(default="UTC", description="the site's wall clock: days, shifts")
    shifts: list[ProductionShiftConfig] = Field(default_factory=list)
    micro_stop_s: float = Field(
        default=120,
        ge=0,
        le=86_400,
        description="a machine stop shorter than this is a micro-stop, not a downtime period",
    )
    areas: list[AreaConfig] = Field(min_length=1)
    people: list[PersonConfig] = Field(default_factory=list)
    rosters: list[RosterConfig] = Field(default_factory=list)
    escalation: EscalationConfig | None = None
    measurements: MeasurementsConfig = MeasurementsConfig()
    sparkplug: SparkplugHostConfig | None = None
    recurrence_days: float = Field(
        default=7,
        gt=0,
        le=366,
        description="days a station is watched after a fix: a call there with the same "
        "reason code (or SPC characteristic) within them is a recurrence",
    )
    auth: AuthConfig = AuthConfig()

    @property
    def mqtt_client_id(self) -> str:
        return self.client_id or f"andon-hub-{self.site}"

    @property
    def photo_directory(self) -> Path:
        return self.photos.directory or self.storage.path.parent / "photos"

    @property
    def call_type_ids(self) -> list[str]:
        return [call_type.id for call_type in self.call_types]

    @property
    def reason_code_ids(self) -> list[str]:
        return [code.id for code in self.reason_codes]

    def call_type(self, call_type_id: str) -> CallTypeConfig | None:
        return next((c for c in self.call_types if c.id == call_type_id), None)

    @property
    def recurrence_window(self) -> timedelta:
        return timedelta(days=self.recurrence_days)

    def line_down_call_types(self) -> set[str]:
        return {c.id for c in self.call_types if c.line_down}

    def line_ids(self) -> set[str]:
        return {line.id for area in self.areas for line in area.lines}

    def line_edges(self) -> dict[tuple[str, str], frozenset[str]]:
        """(area, line) -> the edges that serve it, for every line that lists them."""
        return {
            (area.id, line.id): frozenset(line.edges)
            for area in self.areas
            for line in area.lines
            if line.edges
        }

    def station_keys(self) -> set[tuple[str, str, str]]:
        """Every (area, line, station) of the site."""
        return {
            (area.id, line.id, station.id)
            for area in self.areas
            for line in area.lines
            for station in line.stations
        }

    def problems(self) -> list[Problem]:
        """Mistakes the schema cannot see: repeated ids and names, escalation's references."""
        problems: list[Problem] = []
        for key, values in (
            ("call_types", self.call_type_ids),
            ("reason_codes", self.reason_code_ids),
            ("shifts", [shift.id for shift in self.shifts]),
        ):
            problems += [((key, i), f"duplicate {values[i]!r}") for i in duplicates(values)]
        area_ids = [area.id for area in self.areas]
        problems += [
            (("areas", i, "id"), f"duplicate area id {area_ids[i]!r}") for i in duplicates(area_ids)
        ]
        line_ids = [
            (a, li, line.id)
            for a, area in enumerate(self.areas)
            for li, line in enumerate(area.lines)
        ]
        for index in duplicates([line_id for _, _, line_id in line_ids]):
            a, li, line_id = line_ids[index]
            problems.append((("areas", a, "lines", li, "id"), f"duplicate line id {line_id!r}"))
        for a, area in enumerate(self.areas):
            for li, line in enumerate(area.lines):
                station_ids = [station.id for station in line.stations]
                problems += [
                    (
                        ("areas", a, "lines", li, "stations", s, "id"),
                        f"duplicate station id {station_ids[s]!r} on line {line.id!r}",
                    )
                    for s in duplicates(station_ids)
                ]
                problems += [
                    (
                        ("areas", a, "lines", li, "edges", e),
                        f"edge {line.edges[e]!r} listed twice on line {line.id!r}",
                    )
                    for e in duplicates(line.edges)
                ]
        stations = {(line, station) for _, line, station in self.station_keys()}
        problems += measurement_problems(self.measurements, stations)
        if self.sparkplug is not None:
            problems += sparkplug_problems(self.sparkplug, stations, self.call_type_ids)
        problems += auth_problems(self.auth, self.line_ids())
        return problems + escalation_problems(
            people=self.people,
            rosters=self.rosters,
            escalation=self.escalation,
            call_types=self.call_type_ids,
            lines=sorted(self.line_ids()),
        )

    def warnings(self) -> list[Problem]:
        """Worth fixing, but the file works: call types no escalation policy takes, hubs
        of a shared group without a client id of their own."""
        call_types = self.call_type_ids
        warnings: list[Problem] = [
            (("call_types", i), f"no escalation policy matches call type {call_types[i]!r}")
            for i in unescalated_call_types(self.escalation, call_types)
        ]
        if self.shared_group is not None and self.client_id is None:
            message = (
                "give each hub of a shared group its own client_id: without one they all "
                f"connect as {self.mqtt_client_id!r} and take each other's broker session"
            )
            warnings.append((("shared_group",), message))
        return warnings


def load_hub_config(path: Path) -> HubConfig:
    """The hub configuration in ``path``, or ConfigInvalid with every error."""
    return validate_hub_document(read_document(path))


def validate_hub_document(doc: YamlDocument) -> HubConfig:
    """The hub configuration in ``doc``, or ConfigInvalid with every error: an SPC rule
    file its ``sparkplug.spc`` names is read too (relative to the file) and checked,
    also when the file's own cross-checks failed."""
    try:
        config = validate_document(doc, HubConfig)
        issues: list[ConfigIssue] = []
    except ConfigInvalid as exc:
        try:
            config = HubConfig.model_validate(doc.data)
        except ValidationError:
            raise exc from None
        issues = exc.issues
    if config.sparkplug is not None:
        section, found = with_spc_rules(doc, config.sparkplug)
        issues += found
        config = config.model_copy(update={"sparkplug": section})
    if issues:
        raise ConfigInvalid(sorted(issues, key=lambda issue: issue.line))
    return config

"""The acknowledgement link's page (``/ack/...``), opened from a phone's notification.

It looks like the other pages (one style sheet, large buttons) but runs no script: the
link is its own proof and no token is kept. It names the call as people know it (the
station, line and call type from the hub's file, the person from its people) in the
person's language: ``?lang=`` when the page's switch was used, else the ``language`` of
the person in the hub's file, else what the browser asks for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse

from hub.calls.records import Call
from hub.config.file import HubConfig
from hub.process.live_config import LiveConfig
from hub.web.i18n import LANGUAGES, choose_language, texts
from hub.web.render import ENVIRONMENT, plant_names


@dataclass(frozen=True)
class LinkPage:
    """What the page says: the keys of its heading and text in hub/web/i18n.py, and the
    values the text names (``person`` and ``state`` are put into words here)."""

    title: str
    text: str
    status: int = 200
    person: str | None = None
    call: Call | None = None
    confirm: str | None = None  # the form's target when the page asks to acknowledge
    values: dict[str, Any] = field(default_factory=dict)


def link_language(request: Request, config: HubConfig, person: str | None) -> str:
    """``?lang=``, else the person's language in the hub's file, else the browser's."""
    explicit = request.query_params.get("lang")
    if explicit in LANGUAGES:
        return explicit
    known = next((p for p in config.people if p.id == person), None)
    if known is not None and known.language is not None:
        return known.language
    return choose_language(request)


def call_facts(config: HubConfig, call: Call, language: str) -> list[tuple[str, str, str]]:
    """(fact, its word's key, the value) for the call's names, as the page lists them."""
    names = plant_names(config, language)
    line = names["lines"].get(call.line, {"name": call.line, "stations": {}})
    call_type = names["call_types"].get(call.call_type, {"name": call.call_type})
    raised = call.raised_at.astimezone(ZoneInfo(config.timezone))
    return [
        ("station", "station", line["stations"].get(call.station, call.station)),
        ("line", "line", line["name"]),
        ("call-type", "call_type", call_type["name"]),
        ("raised-at", "raised_at", f"{raised:%Y-%m-%d %H:%M}"),
    ]


def link_page(request: Request, live: LiveConfig, shown: LinkPage) -> HTMLResponse:
    """The page in the person's language, with the HTTP status ``shown.status``."""
    config = live.current
    language = link_language(request, config, shown.person)
    words = texts(language)
    person = plant_names(config, language)["people"].get(shown.person or "", shown.person)
    values = {"person": person, **shown.values}
    if shown.call is not None:
        values.setdefault("state", words.get(shown.call.state.value, shown.call.state.value))
    html = ENVIRONMENT.get_template("ack.html").render(
        lang=language,
        t=words,
        other_language=next(code for code in LANGUAGES if code != language),
        site=config.site,
        title=words[shown.title],
        text=words[shown.text].format(**values),
        status=shown.status,
        facts=[] if shown.call is None else call_facts(config, shown.call, language),
        person=person,
        call=shown.call,
        confirm=shown.confirm and f"{shown.confirm}?lang={language}",
    )
    return HTMLResponse(html, status_code=shown.status, headers={"Cache-Control": "no-store"})

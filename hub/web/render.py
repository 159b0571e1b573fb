"""Rendering a page: one Jinja2 environment, the words and names every page carries."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.config.file import HubConfig
from hub.process.live_config import LiveConfig
from hub.web.i18n import COOKIE, LANGUAGES, choose_language, texts

TEMPLATES = Path(__file__).parent / "templates"
ENVIRONMENT = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
# The language switch's choice lasts a year: a wall board keeps it across restarts.
COOKIE_AGE_S = 365 * 24 * 3600
# Characters that could end or change a <script> block however a name is spelled
# ("</script>", "<!--<script" which makes the real end tag part of the block, "]]>"),
# written as JSON's \u escapes: JSON.parse reads back the same name.
_SCRIPT_ESCAPES = str.maketrans(
    {char: f"\\u{ord(char):04x}" for char in ("<", ">", "&", "\u2028", "\u2029")}
)


def script_json(value: Any) -> str:
    """``value`` as JSON safe inside ``<script type="application/json">``."""
    return json.dumps(value, ensure_ascii=False).translate(_SCRIPT_ESCAPES)


def plant_names(config: HubConfig, language: str) -> dict[str, Any]:
    """The plant's names in ``language``, for the pages' scripts (no calls, no figures)."""
    return {
        "lines": {
            line.id: {
                "name": line.label(language),
                "stations": {s.id: s.label(language) for s in line.stations},
            }
            for area in config.areas
            for line in area.lines
        },
        "call_types": {
            c.id: {"name": c.label(language), "line_down": c.line_down} for c in config.call_types
        },
        "reason_codes": {code.id: code.label(language) for code in config.reason_codes},
        "shifts": {shift.id: shift.label(language) for shift in config.shifts},
        "people": {person.id: person.name or person.id for person in config.people},
    }


def page(request: Request, live: LiveConfig, template: str, **context: Any) -> HTMLResponse:
    """``template`` in the request's language, with the data its script reads."""
    language = choose_language(request)
    config = live.current
    words = texts(language)
    script_data = {
        "lang": language,
        "texts": words,
        "names": plant_names(config, language),
        **context,
    }
    other = next(code for code in LANGUAGES if code != language)
    html = ENVIRONMENT.get_template(template).render(
        lang=language,
        t=words,
        other_language=other,
        site=config.site,
        data=script_json(script_data),
        **context,
    )
    response = HTMLResponse(html, headers={"Cache-Control": "no-store"})
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(COOKIE, language, max_age=COOKIE_AGE_S, samesite="lax")
    return response

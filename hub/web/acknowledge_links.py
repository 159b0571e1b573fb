"""/ack/{token}: the acknowledgement link of a notification, usable without logging in.

``GET`` shows what the link does and a button; only ``POST`` (the button) acknowledges,
so a chat app that previews the link cannot acknowledge the call by looking at it. A
tampered, expired or used link, or a call past acknowledging, gets a page saying so.
The page itself (names, language, looks) is hub/web/ack_page.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from contract.wire import utc_now
from hub.api.dependencies import ChangesDep, LiveConfigDep, StoreDep
from hub.calls.lifecycle import Actor, CallState, Source
from hub.calls.news import CallChange
from hub.calls.repository import CallNotFound, Store, TransitionRefused
from hub.db.tables import ack_links_used
from hub.escalation.links import AckLink, LinkRefused, link_key, read_token, use_once
from hub.web.ack_page import LinkPage, link_page

router = APIRouter(tags=["acknowledgement links"], include_in_schema=False)

REFUSED_STATUS = {"tampered": 403, "expired": 410, "used": 410}


def _refused(exc: LinkRefused, person: str | None = None) -> LinkPage:
    expired = exc.expires_at and {"time": f"{exc.expires_at:%Y-%m-%d %H:%M}"}
    return LinkPage(
        "ack_refused_title",
        f"ack_{exc.reason}",
        status=REFUSED_STATUS[exc.reason],
        person=person,
        values=expired or {},
    )


def _read(store: Store, token: str) -> AckLink | LinkPage:
    now = utc_now()
    try:
        with store.write() as conn:
            link = read_token(link_key(conn), token, now=now)
            used = conn.execute(
                select(ack_links_used.c.used_at).where(ack_links_used.c.nonce == link.nonce)
            ).scalar()
        if used is not None:
            return _refused(LinkRefused("used", "This link was already used."), link.person)
    except LinkRefused as exc:
        return _refused(exc)
    except (ValueError, KeyError):  # not even shaped like a token
        return LinkPage("ack_refused_title", "ack_invalid", status=403)
    return link


def _no_call(link: AckLink) -> LinkPage:
    return LinkPage(
        "ack_refused_title", "ack_no_call", status=404, person=link.person,
        values={"id": link.call_id},
    )  # fmt: skip


@router.get("/ack/{token}", response_class=HTMLResponse)
def show_link(request: Request, store: StoreDep, live: LiveConfigDep, token: str) -> HTMLResponse:
    link = _read(store, token)
    if isinstance(link, LinkPage):
        return link_page(request, live, link)
    try:
        call = store.get_call(link.call_id)
    except CallNotFound:
        return link_page(request, live, _no_call(link))
    if call.state is not CallState.RAISED:
        nothing = LinkPage("ack_nothing_title", "ack_nothing_text", 409, link.person, call)
        return link_page(request, live, nothing)
    confirm = LinkPage(
        "ack_confirm_title", "ack_confirm_text", person=link.person, call=call,
        confirm=f"/ack/{token}",  # the page escapes it
    )  # fmt: skip
    return link_page(request, live, confirm)


@router.post("/ack/{token}", response_class=HTMLResponse)
def use_link(
    request: Request,
    store: StoreDep,
    live: LiveConfigDep,
    changes: ChangesDep,
    token: str,
) -> HTMLResponse:
    link = _read(store, token)
    if isinstance(link, LinkPage):
        return link_page(request, live, link)
    now = utc_now()
    try:
        call = store.transition(
            link.call_id, "acknowledge", now, actor=Actor(link.person, Source.API),
            also=lambda conn: use_once(conn, link, now),
        )  # fmt: skip
    except CallNotFound:
        return link_page(request, live, _no_call(link))
    except TransitionRefused:
        current = store.get_call(link.call_id)
        nothing = LinkPage("ack_nothing_title", "ack_nothing_text", 409, link.person, current)
        return link_page(request, live, nothing)
    except LinkRefused as exc:
        return link_page(request, live, _refused(exc, link.person))
    changes.announce(CallChange(call.id, call.area, call.line, call.station, call.state))
    done = LinkPage("ack_done_title", "ack_done_text", person=link.person, call=call)
    return link_page(request, live, done)

"""/ack/{token}: the acknowledgement link of a notification, usable without logging in.

``GET`` shows what the link does and a button; only ``POST`` (the button) acknowledges,
so a chat app that previews the link cannot acknowledge the call by looking at it. A
tampered, expired or used link, or a call past acknowledging, gets a page saying so.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from contract.wire import utc_now
from hub.batch import Actor
from hub.changes import CallChange, CallChanges
from hub.escalation.links import AckLink, LinkRefused, link_key, read_token, use_once
from hub.lifecycle import CallState, Source
from hub.store import CallNotFound, Store, TransitionRefused
from hub.tables import ack_links_used

router = APIRouter(tags=["acknowledgement links"], include_in_schema=False)

REFUSED_STATUS = {"tampered": 403, "expired": 410, "used": 410}


def _page(title: str, text: str, *, status: int = 200, form: str = "") -> HTMLResponse:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p data-ack-status='{status}'>{html.escape(text)}</p>"
        f"{form}</body></html>"
    )
    return HTMLResponse(body, status_code=status)


def _read(request: Request, token: str) -> AckLink | HTMLResponse:
    store: Store = request.app.state.store
    now = utc_now()
    try:
        with store.write() as conn:
            link = read_token(link_key(conn), token, now=now)
            used = conn.execute(
                select(ack_links_used.c.used_at).where(ack_links_used.c.nonce == link.nonce)
            ).scalar()
        if used is not None:
            raise LinkRefused("used", "This link was already used.")
    except LinkRefused as exc:
        return _page("Link refused", str(exc), status=REFUSED_STATUS[exc.reason])
    except (ValueError, KeyError):  # not even shaped like a token
        return _page("Link refused", "This link is not valid.", status=403)
    return link


@router.get("/ack/{token}", response_class=HTMLResponse)
def show_link(request: Request, token: str) -> HTMLResponse:
    link = _read(request, token)
    if isinstance(link, HTMLResponse):
        return link
    store: Store = request.app.state.store
    try:
        call = store.get_call(link.call_id)
    except CallNotFound:
        return _page("Link refused", f"Call {link.call_id} does not exist.", status=404)
    what = f"{call.call_type} call at {call.station}, {call.line} (call {call.id})"
    if call.state is not CallState.RAISED:
        return _page("Nothing to acknowledge", f"The {what} is {call.state}.", status=409)
    form = (
        f"<form method='post' action='/ack/{html.escape(token)}'>"
        "<button type='submit' data-ack='confirm'>Acknowledge</button></form>"
    )
    return _page("Acknowledge this call?", f"Acknowledge the {what} as {link.person}.", form=form)


@router.post("/ack/{token}", response_class=HTMLResponse)
def use_link(request: Request, token: str) -> HTMLResponse:
    link = _read(request, token)
    if isinstance(link, HTMLResponse):
        return link
    store: Store = request.app.state.store
    now = utc_now()
    try:
        call = store.transition(
            link.call_id, "acknowledge", now, actor=Actor(link.person, Source.API),
            also=lambda conn: use_once(conn, link, now),
        )  # fmt: skip
    except CallNotFound:
        return _page("Link refused", f"Call {link.call_id} does not exist.", status=404)
    except TransitionRefused as exc:
        return _page("Nothing to acknowledge", str(exc), status=409)
    except LinkRefused as exc:
        return _page("Link refused", str(exc), status=REFUSED_STATUS[exc.reason])
    changes: CallChanges = request.app.state.changes
    changes.announce(CallChange(call.id, call.area, call.line, call.station, call.state))
    return _page("Acknowledged", f"Call {call.id} is acknowledged by {link.person}.")

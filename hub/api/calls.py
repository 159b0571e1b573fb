"""/api/calls: list and read calls, raise one from a panel, move it along its lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy.engine import Connection

from contract.bounds import Id32, Moment
from contract.wire import utc_now
from hub.access.permissions import ACTION_PERMISSION, Permission
from hub.api.auth import Principal, allowed
from hub.api.dependencies import ChangesDep, LiveConfigDep, MetricsDep, StoreDep
from hub.api.parameters import MAX_LIST, Cursor, Words
from hub.api.schemas import CallDetailOut, CallOut, CallPage, CancelIn, RaiseIn, ResolveIn
from hub.calls.lifecycle import Actor, CallState, Source
from hub.calls.news import CallChange, CallChanges
from hub.calls.records import Call, CallFilter
from hub.calls.recurrence import RecurrenceRule, RootCauseMissing
from hub.calls.repository import CallNotFound, NewCall, Store, TransitionRefused
from hub.db.paging import DEFAULT_PAGE, MAX_PAGE, split_page
from hub.escalation.snapshot import snapshots_from
from hub.machines.call_reasons import reason_from_call
from hub.process.metrics import HubMetrics

router = APIRouter(prefix="/api/calls", tags=["calls"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such call"}}
REFUSED: dict[int | str, dict[str, Any]] = {
    409: {"description": "the call's state does not allow this; the body says which"}
}


@dataclass(frozen=True)
class _Parts:
    """What a transition touches: the calls, their news, the response-time metrics."""

    store: Store
    changes: CallChanges
    metrics: HubMetrics


async def _parts(store: StoreDep, changes: ChangesDep, metrics: MetricsDep) -> _Parts:
    return _Parts(store, changes, metrics)


TransitionParts = Annotated[_Parts, Depends(_parts)]


def call_out(call: Call, now: datetime) -> CallOut:
    return CallOut.model_validate({**call.__dict__, "durations": call.durations(now)})


@router.get("")
def list_calls(
    store: StoreDep,
    *,
    who: Annotated[Principal, allowed(Permission.READ)],
    state: Annotated[list[CallState], Query(default_factory=list, max_length=MAX_LIST)],
    area: Words,
    line: Words,
    station: Words,
    call_type: Words,
    since: Annotated[Moment | None, Query(description="raised at or after (ISO 8601)")] = None,
    until: Annotated[Moment | None, Query(description="raised before (ISO 8601)")] = None,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "asc",
    cursor: Cursor | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE,
) -> CallPage:
    """Calls, oldest first (``order=desc``: newest first), a page at a time."""
    for wanted in line or ():
        who.check_line(wanted)
    query = CallFilter(
        states=state or (),
        areas=area or (),
        lines=line or (),
        stations=station or (),
        call_types=call_type or (),
        since=since,
        until=until,
        after=cursor,
        newest_first=order == "desc",
        limit=limit,
        allowed_lines=who.lines,
    )
    calls = store.list_calls(query)
    now = utc_now()
    page, next_cursor = split_page(calls, limit, lambda call: str(call.id))
    return CallPage(calls=[call_out(call, now) for call in page], next_cursor=next_cursor)


# Values of the right shape that the hub's file does not know (it can change at a reload):
# the request conflicts with the plant's configuration rather than being malformed.
NOT_CONFIGURED = "not a station, call type or reason code of the hub's file"


@router.post("", status_code=201, responses={409: {"description": NOT_CONFIGURED}})
def raise_call(
    store: StoreDep,
    changes: ChangesDep,
    config: LiveConfigDep,
    body: RaiseIn,
    who: Annotated[Principal, allowed(Permission.RAISE)],
) -> CallOut:
    """Raise a call from a station's panel; a call already open there is joined."""
    who.check_line(body.line)
    hub = config.current
    if (body.area, body.line, body.station) not in hub.station_keys():
        raise HTTPException(409, f"no station {body.area}/{body.line}/{body.station}")
    call_type = hub.call_type(body.call_type)
    if call_type is None:
        raise HTTPException(409, f"unknown call type {body.call_type!r}")
    now = utc_now()
    where = NewCall(
        site=hub.site,
        area=body.area,
        line=body.line,
        station=body.station,
        call_type=body.call_type,
        needs_verification=call_type.verify,
    )
    call, new = store.raise_call(
        call=where, actor=Actor(who.name, Source.API), now=now, snapshot_for=snapshots_from(hub)
    )
    _announce(changes, call, "raised" if new else "joined")
    return call_out(call, now)


@router.get("/{call_id}", responses=NOT_FOUND)
def get_call(
    store: StoreDep, call_id: Id32, who: Annotated[Principal, allowed(Permission.READ)]
) -> CallDetailOut:
    """One call with its timeline: every transition, who made it, when and from where."""
    call = _get_visible(store, call_id, who)
    out = call_out(call, utc_now())
    return CallDetailOut.model_validate(
        {**out.model_dump(), "timeline": [e.__dict__ for e in store.timeline(call_id)]}
    )


@router.post("/{call_id}/acknowledge", responses={**NOT_FOUND, **REFUSED})
def acknowledge(
    parts: TransitionParts,
    call_id: Id32,
    who: Annotated[Principal, allowed(Permission.ACKNOWLEDGE)],
) -> CallOut:
    return _transition(parts, call_id, "acknowledge", who)


@router.post("/{call_id}/arrive", responses={**NOT_FOUND, **REFUSED})
def arrive(
    parts: TransitionParts, call_id: Id32, who: Annotated[Principal, allowed(Permission.ARRIVE)]
) -> CallOut:
    return _transition(parts, call_id, "arrive", who)


@router.post(
    "/{call_id}/resolve",
    responses={
        **NOT_FOUND,
        409: {
            "description": f"{REFUSED[409]['description']}; or {NOT_CONFIGURED}; or the "
            "call recurs an earlier one and its call type needs a root cause and a "
            "countermeasure"
        },
    },
)
def resolve(
    parts: TransitionParts,
    config: LiveConfigDep,
    call_id: Id32,
    body: ResolveIn,
    who: Annotated[Principal, allowed(Permission.RESOLVE)],
) -> CallOut:
    """Resolve with a reason code (and a note). A call that recurs an earlier one (the
    same reason code or characteristic at its station within ``recurrence_days`` of that
    one's fix) is linked to it; where its call type has ``root_cause_required``, it is
    resolved only with a ``root_cause`` and a ``countermeasure`` (409 otherwise)."""
    hub = config.current
    codes = hub.reason_code_ids
    if body.reason_code not in codes:
        raise HTTPException(
            409, f"unknown reason code {body.reason_code!r}; expected one of: {', '.join(codes)}"
        )
    details = {
        "reason_code": body.reason_code,
        "note": body.note,
        "root_cause": body.root_cause,
        "countermeasure": body.countermeasure,
    }
    call = _get_visible(parts.store, call_id, who)
    call_type = hub.call_type(call.call_type)
    rule = RecurrenceRule(
        hub.recurrence_window, call_type is not None and call_type.root_cause_required
    )
    reason = body.reason_code

    def stop_reason(conn: Connection) -> None:
        reason_from_call(conn, call_id, reason, by=who.name, now=utc_now())

    try:
        return _transition(
            parts, call_id, "resolve", who, details, recurrence=rule, also=stop_reason
        )
    except RootCauseMissing as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{call_id}/verify", responses={**NOT_FOUND, **REFUSED})
def verify(
    parts: TransitionParts, call_id: Id32, who: Annotated[Principal, allowed(Permission.VERIFY)]
) -> CallOut:
    return _transition(parts, call_id, "verify", who)


@router.post("/{call_id}/cancel", responses={**NOT_FOUND, **REFUSED})
def cancel(
    parts: TransitionParts,
    call_id: Id32,
    body: CancelIn,
    who: Annotated[Principal, allowed(Permission.CANCEL)],
) -> CallOut:
    return _transition(parts, call_id, "cancel", who, {"cancel_reason": body.reason})


def _get_visible(store: Store, call_id: Id32, who: Principal) -> Call:
    try:
        call = store.get_call(call_id)
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None
    who.check_line(call.line)
    return call


def _transition(
    parts: _Parts,
    call_id: Id32,
    action: str,
    who: Principal,
    details: dict[str, str | None] | None = None,
    *,
    recurrence: RecurrenceRule | None = None,
    also: Callable[[Connection], None] | None = None,
) -> CallOut:
    assert action in ACTION_PERMISSION
    store = parts.store
    _get_visible(store, call_id, who)
    now = utc_now()
    try:
        call = store.transition(
            call_id,
            action,
            now,
            actor=Actor(who.name, Source.API),
            details=details,
            recurrence=recurrence,
            also=also,
        )
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None
    except TransitionRefused as exc:
        raise HTTPException(409, {"message": str(exc), "state": exc.state}) from None
    _observe_response(parts.metrics, call, action)
    _announce(parts.changes, call, call.state)
    return call_out(call, now)


def _announce(changes: CallChanges, call: Call, action: str) -> None:
    changes.announce(CallChange(call.id, call.area, call.line, call.station, action))


def _observe_response(metrics: HubMetrics, call: Call, action: str) -> None:
    durations = call.durations(utc_now())
    seconds = {
        "acknowledge": durations.to_acknowledge_s,
        "arrive": durations.to_arrive_s,
        "resolve": durations.to_resolve_s,
    }.get(action)
    if seconds is not None:
        metrics.response.labels(action, call.line, call.call_type).observe(seconds)

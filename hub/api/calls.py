"""/api/calls: list, get, acknowledge and resolve calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request

from contract.wire import utc_now
from hub.config import HubConfig
from hub.schemas import CallOut, ResolveIn
from hub.store import CallNotFound, CallState, Store, TransitionRefused

router = APIRouter(prefix="/api/calls", tags=["calls"])


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


@router.get("")
def list_calls(
    request: Request,
    state: Annotated[CallState | None, Query()] = None,
    line: Annotated[str | None, Query()] = None,
) -> list[CallOut]:
    calls = _store(request).list_calls(state=state, line=line)
    return [CallOut.model_validate(call) for call in calls]


@router.get("/{call_id}", responses={404: {"description": "no such call"}})
def get_call(request: Request, call_id: int) -> CallOut:
    try:
        return CallOut.model_validate(_store(request).get_call(call_id))
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None


@router.post(
    "/{call_id}/acknowledge",
    responses={404: {"description": "no such call"}, 409: {"description": "not raised"}},
)
def acknowledge(request: Request, call_id: int) -> CallOut:
    return _transition(request, call_id, "acknowledge")


@router.post(
    "/{call_id}/resolve",
    responses={
        404: {"description": "no such call"},
        409: {"description": "already resolved"},
        422: {"description": "unknown reason code"},
    },
)
def resolve(request: Request, call_id: int, body: ResolveIn) -> CallOut:
    config: HubConfig = request.app.state.config
    if body.reason_code not in config.reason_codes:
        raise HTTPException(
            422,
            f"unknown reason code {body.reason_code!r}; expected one of: "
            f"{', '.join(config.reason_codes)}",
        )
    return _transition(request, call_id, "resolve", reason_code=body.reason_code, note=body.note)


def _transition(
    request: Request,
    call_id: int,
    action: str,
    *,
    reason_code: str | None = None,
    note: str | None = None,
) -> CallOut:
    try:
        call = _store(request).transition(
            call_id, action, utc_now(), reason_code=reason_code, note=note
        )
    except CallNotFound:
        raise HTTPException(404, f"no call {call_id}") from None
    except TransitionRefused as exc:
        raise HTTPException(409, str(exc)) from None
    return CallOut.model_validate(call)

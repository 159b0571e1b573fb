"""Every endpoint x every role, as the table in hub/access/permissions.py says; and tokens
of a line."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from sqlalchemy import update

from contract.wire import utc_now
from hub.access.accounts import AccountNameTaken, AccountStore
from hub.access.permissions import ALLOWED, ENDPOINTS, LINE_ROLES, PUBLIC, Permission, Role
from hub.access.tokens import TokenNameTaken, TokenRefused, TokenStore
from hub.calls.lifecycle import OPEN_STATES, Actor, Source
from hub.db.tables import accounts as accounts_table
from tests.helpers.hub import HubUnderTest

pytestmark = pytest.mark.asyncio

BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/calls"): {
        "area": "assembly", "line": "line1", "station": "st10", "call_type": "help"
    },
    ("POST", "/api/calls/{call_id}/resolve"): {"reason_code": "adjusted"},
    ("POST", "/api/calls/{call_id}/cancel"): {"reason": "mistake"},
    ("POST", "/api/admin/tokens"): {"name": "made-in-test", "role": "viewer"},
    ("POST", "/api/roster-overrides"): {
        "person": "li-wei", "covers": "zhang-min", "starts": "2026-12-08 22:00", "ends": "06:00"
    },
    ("POST", "/api/admin/users"): {
        "name": "made-in-test", "role": "viewer", "password": "correct horse"
    },
    ("POST", "/api/admin/users/{name}/password"): {"password": "battery staple"},
    ("POST", "/api/downtime/{period_id}/reason"): {"reason": "adjusted"},
}  # fmt: skip
# A photo's upload is a multipart form: a one-pixel PNG (a valid upload, so a refusal is
# the permission's or the line's, not the body's).
PIXEL_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010800000000"
    "3a7e9b550000000a4944415478da63600000000200015de2b5f20000000049454e44ae426082"
)
FILES = {("POST", "/api/calls/{call_id}/photos"): {"file": ("pixel.png", PIXEL_PNG, "image/png")}}


def _body(method: str, path: str) -> dict[str, Any]:
    """What a request of ``method path`` carries: a JSON body or a form with a file."""
    if (method, path) in FILES:
        return {"files": FILES[method, path]}
    return {"json": BODIES.get((method, path))}


# Streams never end, and httpx's ASGI transport reads a whole body: the board's stream is
# walked with every role against a real server in tests/hub/web/test_board_stream.py.
STREAMS = {"/api/board/events", "/api/characteristics/{name}/events"}


def _url(path: str, call_id: int) -> str:
    return path.format(
        call_id=call_id,
        name="victim",
        anomaly_id=call_id,
        photo_id=1,
        override_id=call_id,
        period_id=call_id,
    )


async def test_the_table_names_every_api_route_of_the_app(hub: HubUnderTest) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in hub.app.openapi()["paths"].items()
        if path.startswith("/api")
        for method in operations
    }
    open_routes = {(method, path) for method, path in PUBLIC if path.startswith("/api")}
    assert routes == {(method, path) for method, path, _ in ENDPOINTS} | open_routes


@pytest.mark.parametrize("role", list(Role))
async def test_every_endpoint_admits_exactly_the_roles_of_the_table(
    hub: HubUnderTest, role: Role
) -> None:
    for method, path, permission in ENDPOINTS:
        if path in STREAMS:
            continue
        call_id = hub.raise_call("st10", "maintenance")
        async with hub.client(role) as client:
            if path.endswith("{name}"):
                await _make_victim(hub)
            if "/users/{name}" in path:
                _make_victim_account(hub)
            response = await client.request(method, _url(path, call_id), **_body(method, path))
        allowed = role in ALLOWED[permission]
        if allowed:
            assert response.status_code not in (401, 403), (role, method, path, response.text)
        else:
            assert response.status_code == 403, (role, method, path, response.text)
            assert f"role {role} may not {permission}" in response.text
        _close_open_calls(hub)


async def _make_victim(hub: HubUnderTest) -> None:
    """An active token named ``victim`` for the revoke endpoint to find."""
    tokens = TokenStore(hub.store)
    if not any(info.name == "victim" and info.revoked_at is None for info in tokens.list()):
        with contextlib.suppress(TokenNameTaken):
            tokens.create(name="victim", role=Role.VIEWER, lines=[], actor="test", now=utc_now())


def _make_victim_account(hub: HubUnderTest) -> None:
    """An enabled local account named ``victim`` for the password and disable endpoints."""
    accounts = AccountStore(hub.store)
    found = accounts.find("victim")
    if found is not None and found.disabled_at is None:
        return
    if found is None:
        with contextlib.suppress(AccountNameTaken):
            accounts.create(
                name="victim", role=Role.VIEWER, lines=[], person=None,
                password="victim's password", actor="test", now=utc_now(),
            )  # fmt: skip
        return
    with hub.store.write() as conn:  # disabled by the last role's walk: enabled again
        conn.execute(update(accounts_table).where(accounts_table.c.name == "victim").values(
            disabled_at=None))  # fmt: skip


def _close_open_calls(hub: HubUnderTest) -> None:
    for call in hub.store_calls():
        if call.state in OPEN_STATES:
            hub.store.transition(call.id, "cancel", utc_now(), actor=Actor("t", Source.API))


async def test_no_token_a_bad_token_or_a_revoked_one_is_a_401(hub: HubUnderTest) -> None:
    token = hub.token(Role.ADMIN)
    for method, path, _ in ENDPOINTS:
        async with hub.client() as anonymous:
            response = await anonymous.request(method, _url(path, 1), **_body(method, path))
            assert response.status_code == 401, (method, path)
            assert response.headers["www-authenticate"] == "Bearer"
    async with hub.client() as client:
        wrong = {"Authorization": "Bearer andon_not-a-real-token"}
        assert (await client.get("/api/calls", headers=wrong)).status_code == 401
        basic = {"Authorization": f"Basic {token}"}
        assert (await client.get("/api/calls", headers=basic)).status_code == 401
        good = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/calls", headers=good)).status_code == 200
        # A token cannot revoke itself (the last admin's would lock the API's admins out).
        itself = await client.delete("/api/admin/tokens/admin-all", headers=good)
        assert itself.status_code == 409
        other = TokenStore(hub.store).create(
            name="other-admin", role=Role.ADMIN, lines=(), actor="test", now=utc_now()
        )
        by_other = {"Authorization": f"Bearer {other}"}
        revoked = await client.delete("/api/admin/tokens/admin-all", headers=by_other)
        assert revoked.status_code == 204
        assert (await client.get("/api/calls", headers=good)).status_code == 401
        assert (await client.get("/healthz")).status_code in (200, 503)  # open, never 401


async def test_a_token_of_another_line_sees_and_touches_only_its_own_line(
    hub: HubUnderTest,
) -> None:
    mine = hub.raise_call("st30", "help", line="line2")
    theirs = hub.raise_call("st10")
    async with hub.client(Role.RESPONDER, "line2") as responder:
        listed = (await responder.get("/api/calls")).json()["calls"]
        assert [c["id"] for c in listed] == [mine]
        assert (await responder.get("/api/calls", params={"line": "line1"})).status_code == 403
        assert (await responder.get(f"/api/calls/{theirs}")).status_code == 403
        refused = await responder.post(f"/api/calls/{theirs}/acknowledge")
        assert refused.status_code == 403
        assert "limited to lines line2" in refused.text
        assert (await responder.post(f"/api/calls/{mine}/acknowledge")).status_code == 200
    async with hub.client(Role.STATION, "line2") as panel:
        body = {"area": "assembly", "line": "line1", "station": "st10", "call_type": "help"}
        assert (await panel.post("/api/calls", json=body)).status_code == 403
    states = {c.id: c.state for c in hub.store_calls()}
    assert states == {mine: "acknowledged", theirs: "raised"}


async def test_metrics_are_open_on_loopback_only(hub: HubUnderTest) -> None:
    async with hub.client(address="127.0.0.1") as local:
        assert (await local.get("/metrics")).status_code == 200
    async with hub.client(address="10.20.30.40") as remote:
        refused = await remote.get("/metrics")
        assert refused.status_code == 403
        assert "configure api.metrics_token" in refused.text
        viewer = {"Authorization": f"Bearer {hub.token(Role.ADMIN)}"}
        assert (await remote.get("/metrics", headers=viewer)).status_code == 403


async def test_every_permission_of_the_table_has_an_endpoint() -> None:
    used = {permission for _, _, permission in ENDPOINTS}
    assert used == set(Permission)


CALL_ENDPOINTS = [(m, p, perm) for m, p, perm in ENDPOINTS if "{call_id}" in p]


@pytest.mark.parametrize("role", sorted(LINE_ROLES))
async def test_a_token_of_another_line_is_refused_on_every_call_of_this_line(
    hub: HubUnderTest, role: Role
) -> None:
    call_id = hub.raise_call("st10")  # line1
    async with hub.client(role, "line2") as other_line:
        for method, path, permission in CALL_ENDPOINTS:
            response = await other_line.request(method, _url(path, call_id), **_body(method, path))
            assert response.status_code == 403, (method, path)
            why = "limited to lines line2" if role in ALLOWED[permission] else "may not"
            assert why in response.text, (method, path)
    assert hub.store.get_call(call_id).state == "raised"


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.ADMIN])
async def test_a_site_wide_role_cannot_be_limited_to_lines(hub: HubUnderTest, role: Role) -> None:
    with pytest.raises(TokenRefused, match="for the whole site"):
        hub.token(role, "line2")
    async with hub.client(Role.ADMIN) as admin:
        body = {"name": "one-line-admin", "role": str(role), "lines": ["line2"]}
        refused = await admin.post("/api/admin/tokens", json=body)
    assert refused.status_code == 409
    assert [t.name for t in TokenStore(hub.store).list()] == ["admin-all"]

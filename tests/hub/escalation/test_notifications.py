"""Channels, retries, the delivery log through the API, and acknowledgement links."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from contract.wire import utc_now
from hub.access.permissions import Role
from hub.calls.lifecycle import CallState
from hub.escalation.links import LinkRefused, link_key, make_token, read_token
from tests.helpers.escalation import (
    SECRET,
    announce,
    attempts,
    escalation_settings,
    received,
    running_hub,
)
from tests.helpers.hub import HubUnderTest
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

ONE_LEVEL = [{"after_s": 0, "notify": ["roster:maintenance"]}]


async def test_a_failing_channel_is_retried_and_its_attempts_are_visible_through_the_api(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    receiver.fail("/li-wei", 2)
    settings = escalation_settings(database_url, receiver, levels=ONE_LEVEL)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        await received(receiver, 1)
        call_id = hub.store_calls()[0].id
        await until(lambda: any(a["status"] == "sent" for a in attempts(hub.store)), what="sent")
        async with hub.client(Role.VIEWER) as client:
            response = await client.get(f"/api/calls/{call_id}/notifications")
        assert response.status_code == 200
        log = response.json()["notifications"]
        assert [(n["attempt"], n["status"]) for n in log] == [
            (1, "failed"), (2, "failed"), (3, "sent"),
        ]  # fmt: skip
        assert log[0]["error"] == "HTTP 500 Internal Server Error"
        assert {n["key"] for n in log} == {log[0]["key"]}  # one message, three attempts
        assert (log[0]["person"], log[0]["via"], log[0]["level"]) == (
            "li-wei", "roster:maintenance", 0,
        )  # fmt: skip
        assert SECRET not in response.text
        assert log[0]["channel"] == f"andon+http://***@{receiver.url}/li-wei"
        assert log[1]["retry_at"] is None
        assert log[2]["error"] is None


async def test_a_channel_that_keeps_failing_raises_a_system_call_to_the_rosters_fallback(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    receiver.fail("/li-wei", 1000)
    settings = escalation_settings(database_url, receiver, levels=ONE_LEVEL)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        got = await received(receiver, 1)
        body = got[0].json()
        assert (got[0].path, body["call_type"], body["via"]) == (
            "/boss", "channel failing", "fallback:maintenance",
        )  # fmt: skip
        system = next(c for c in hub.store_calls() if c.area == "system")
        assert (system.line, system.station, system.call_type) == (
            "notifications", "li-wei", "channel_failing",
        )  # fmt: skip
        failed = [a for a in attempts(hub.store) if a["person"] == "li-wei"]
        assert [a["attempt"] for a in failed] == [1, 2, 3]  # retry.attempts in the file


async def test_the_signed_webhook_verifies_as_docs_escalation_md_says(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(esc_hub, esc_hub.press())
    (message,) = await received(receiver, 1)
    stamp = message.headers["X-Andon-Timestamp"]
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + message.body, hashlib.sha256)
    assert message.headers["X-Andon-Signature"] == f"v1={expected.hexdigest()}"
    assert message.headers["Idempotency-Key"].startswith("c1:o0:l0:")
    forged = hmac.new(b"another secret", f"{stamp}.".encode() + message.body, hashlib.sha256)
    assert message.headers["X-Andon-Signature"] != f"v1={forged.hexdigest()}"


async def test_an_apprise_json_url_is_a_plain_webhook_with_the_message_text(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = escalation_settings(database_url, receiver, levels=ONE_LEVEL)
    settings["people"][0]["notify"] = [f"json://{receiver.url}/apprise"]
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        (message,) = await received(receiver, 1)
    body = message.json()
    assert message.path == "/apprise"
    assert body["title"] == "maintenance call at st10, line1 (assembly)"
    assert "Level 0 of 0 (policy maintenance-calls)." in body["message"]
    assert "Acknowledge: http://hub.test/ack/" in body["message"]


async def test_a_message_says_what_where_how_long_and_who_else_was_told(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(esc_hub, esc_hub.press())
    got = await received(receiver, 3)
    last = got[2].json()
    assert (last["call_type"], last["station"], last["line"], last["level"]) == (
        "maintenance", "st10", "line1", 2,
    )  # fmt: skip
    assert last["age_s"] >= 4
    assert last["also_told"] == ["Li Wei", "Zhang Min"]
    opened = re.search(r"open (\d+) s\.", last["text"])
    assert opened is not None
    assert int(opened[1]) >= 4


def _link(text: str) -> str:
    found = re.search(r"http://hub\.test(/ack/\S+)", text)
    assert found is not None, text
    return found[1]


async def test_an_ack_link_shows_a_page_then_acknowledges_as_that_person_once(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(esc_hub, esc_hub.press())
    (message,) = await received(receiver, 1)
    path = _link(message.json()["text"])
    call_id = esc_hub.store_calls()[0].id
    async with esc_hub.client() as client:  # no token: the link is its own proof
        page = await client.get(path)
        assert page.status_code == 200
        assert "data-ack='confirm'" in page.text
        assert esc_hub.store.get_call(call_id).state is CallState.RAISED  # GET changes nothing
        done = await client.post(path)
        assert done.status_code == 200
        call = esc_hub.store.get_call(call_id)
        assert (call.state, call.acknowledged_by) == (CallState.ACKNOWLEDGED, "li-wei")
        again = await client.post(path)
        assert again.status_code == 410
        assert "already used" in again.text


async def test_a_tampered_acknowledgement_link_is_refused(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(esc_hub, esc_hub.press())
    (message,) = await received(receiver, 1)
    path = _link(message.json()["text"])
    body, _, signature = path.removeprefix("/ack/").partition(".")
    other = "A" if body[5] != "A" else "B"
    tampered = f"/ack/{body[:5]}{other}{body[6:]}.{signature}"
    call_id = esc_hub.store_calls()[0].id
    async with esc_hub.client() as client:
        for attempt in (tampered, f"/ack/{body}.", "/ack/not-a-token"):
            for method in ("GET", "POST"):
                response = await client.request(method, attempt)
                assert response.status_code == 403, (method, attempt)
                assert "This link is not valid" in response.text
    assert esc_hub.store.get_call(call_id).state is CallState.RAISED


async def test_an_ack_link_with_a_non_ascii_or_malformed_signature_is_refused_not_a_500(
    esc_hub: HubUnderTest, receiver: Receiver
) -> None:
    announce(esc_hub, esc_hub.press())
    (message,) = await received(receiver, 1)
    body, _, signature = _link(message.json()["text"]).removeprefix("/ack/").partition(".")
    attempts = [
        f"/ack/{body}.{signature[:-1]}é",
        f"/ack/{body}.\u2603\u2603",
        f"/ack/{body}.%ED%A0%80",  # a lone surrogate, percent-encoded
        f"/ack/{body}.%00",
        "/ack/é.é",
        f"/ack/{body}.{signature}.{signature}",
    ]
    async with esc_hub.client() as client:
        for attempt in attempts:
            for method in ("GET", "POST"):
                response = await client.request(method, attempt)
                assert response.status_code in (403, 404), (method, attempt, response.text)
    assert esc_hub.store_calls()[0].state is CallState.RAISED


async def test_an_expired_acknowledgement_link_is_refused(
    tmp_path: Path, database_url: str, receiver: Receiver
) -> None:
    settings = escalation_settings(database_url, receiver, levels=ONE_LEVEL, ack_link_ttl_s=1)
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press())
        (message,) = await received(receiver, 1)
        token = _link(message.json()["text"]).removeprefix("/ack/")
        with hub.store.write() as conn:
            key = link_key(conn)
        # The message's link lives 1 s (ack_link_ttl_s): read on a chosen clock, 2 s after
        # the message came, it is expired.
        with pytest.raises(LinkRefused, match="expired"):
            read_token(
                key, token, now=datetime.fromtimestamp(message.at, UTC) + timedelta(seconds=2)
            )
        # The page refuses a link of the hub's whose time has passed.
        expired = make_token(
            key, call_id=hub.store_calls()[0].id, person="li-wei",
            expires_at=utc_now() - timedelta(seconds=1),
        )  # fmt: skip
        async with hub.client() as client:
            response = await client.post(f"/ack/{expired}")
        assert response.status_code == 410
        assert "This link expired" in response.text
        assert hub.store_calls()[0].state is CallState.RAISED

"""A plant without internet reaches phones through its own ntfy server: an escalation
whose person is told at ``ntfy://host:port/topic`` (apprise's ntfy URL) arrives at a local
server speaking ntfy's publish API, with the call's title and text and its link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.access.permissions import Role
from tests.helpers.escalation import announce, attempts, escalation_settings, running_hub
from tests.helpers.ntfy_server import NtfyServer
from tests.helpers.plant import write_yaml
from tests.helpers.receiver import Receiver
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

TOPIC = "andon-maintenance"


@pytest.fixture
def ntfy() -> Iterator[NtfyServer]:
    with NtfyServer() as started:
        yield started


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_call_reaches_the_plants_own_ntfy_server_through_apprise(
    tmp_path: Path, database_url: str, receiver: Receiver, ntfy: NtfyServer
) -> None:
    settings = escalation_settings(
        database_url, receiver, levels=[{"after_s": 0, "notify": ["roster:maintenance"]}]
    )
    li_wei = settings["people"][0]
    li_wei["notify"] = [f"ntfy://{ntfy.address}/{TOPIC}"]
    async with running_hub(write_yaml(tmp_path / "hub.yaml", settings)) as hub:
        announce(hub, hub.press("st20", "maintenance"))
        (message,) = await until(lambda: ntfy.messages(TOPIC), what="a message on ntfy")
        call_id = hub.store_calls()[0].id
        await until(
            lambda: [a for a in attempts(hub.store) if a["status"] == "sent"], what="logged sent"
        )
        async with hub.client(Role.VIEWER) as client:
            log = (await client.get(f"/api/calls/{call_id}/notifications")).json()
    assert message.title == "maintenance call at st20, line1 (assembly)"
    assert "st20" in message.message
    # The acknowledgement link rides in the text: a tap on the phone acknowledges.
    assert re.search(r"http://hub\.test/ack/\S+", message.message), message.message
    (attempt,) = log["notifications"]
    assert (attempt["person"], attempt["status"]) == ("li-wei", "sent")
    assert attempt["channel"].startswith(f"ntfy://{ntfy.address}/")
    assert receiver.received == []  # nobody else was told

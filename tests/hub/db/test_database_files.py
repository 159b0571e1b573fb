"""The hub's SQLite files (its database holds the tokens' hashes and the acknowledgement
links' signing key) are readable by the hub's user only, whatever the umask it starts
with: ``andon hub`` as a process started with umask 000, on a real broker."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import httpx
import pytest

from contract.netutil import free_port
from hub.escalation.links import LINK_KEY
from testbed.broker import MosquittoBroker
from tests.helpers.plant import AndonProcess, create_token, wait_hub_healthy, write_yaml
from tests.helpers.waiting import wait_until

pytestmark = pytest.mark.system


def _modes(folder: Path) -> dict[str, int]:
    return {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}


def _signing_key_stored(database: Path) -> bool:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        found = conn.execute("SELECT value FROM hub_state WHERE name = ?", (LINK_KEY,))
        return found.fetchone() is not None


def _run_hub(config: Path, database: Path, port: int, *, first: bool) -> dict[str, int]:
    """Start the hub with umask 000, have it make its signing key (the ``first`` time),
    stop it: its files' modes while it ran (the -wal and -shm files exist only then)."""
    hub = AndonProcess("hub", config, config.with_name("hub.log"), umask=0)
    try:
        hub.start()
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            wait_hub_healthy(client)
            if first:
                _escalate_a_call(client, config)
        wait_until(lambda: _signing_key_stored(database), what="the link key")
        return _modes(database.parent)
    finally:
        hub.stop()


def _escalate_a_call(client: httpx.Client, config: Path) -> None:
    # The first call escalated gets the key made, to sign its acknowledgement link.
    station = create_token(config, "station", "station")
    body = {"area": "a", "line": "line1", "station": "st10", "call_type": "maintenance"}
    headers = {"Authorization": f"Bearer {station}"}
    assert client.post("/api/calls", json=body, headers=headers).status_code == 201


def test_the_hub_keeps_its_database_private_whatever_the_umask_and_closes_an_open_one(
    tmp_path: Path, broker: MosquittoBroker, topic_prefix: str
) -> None:
    folder = tmp_path / "var" / "andon"  # not there yet: the hub makes it
    database = folder / "hub.sqlite3"
    port = free_port()
    settings = {
        "site": "plant1",
        "broker": {"host": broker.host, "port": broker.port, "topic_prefix": topic_prefix},
        "storage": {"path": str(database)},
        "api": {"host": "127.0.0.1", "port": port},
        "call_types": ["maintenance"],
        "reason_codes": ["fixed"],
        # Nobody listens on port 9: the sends fail, and the call still escalates.
        "people": [{"id": "li-wei", "notify": ["json://127.0.0.1:9/li-wei"]}],
        "escalation": {
            "policies": [
                {
                    "id": "all",
                    "ack_timeout_s": 3600,
                    "levels": [{"after_s": 0, "notify": ["person:li-wei"]}],
                }
            ]
        },
        "areas": [{"id": "a", "lines": [{"id": "line1", "stations": [{"id": "st10"}]}]}],
    }
    config = write_yaml(tmp_path / "hub.yaml", settings)
    private = {"hub.sqlite3": 0o600, "hub.sqlite3-wal": 0o600, "hub.sqlite3-shm": 0o600}

    assert _run_hub(config, database, port, first=True) == private
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    # As an older hub left them: open to everyone on the machine.
    for path in folder.iterdir():
        path.chmod(0o644)
    assert _run_hub(config, database, port, first=False) == private
    assert "was open to other users (mode 644): now 600" in (tmp_path / "hub.log").read_text()

"""Tokens from the command line, the audit log, configuration reloads and health."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
import yaml

from contract.netutil import free_port
from hub.access.permissions import Role
from hub.config.file import load_hub_config
from hub.process.app import create_app
from testbed.postgres import PostgresServer
from tests.helpers.hub import HubUnderTest, hub_settings
from tests.helpers.plant import write_yaml

ANDON = [sys.executable, "-m", "andon.cli"]


def _andon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ANDON, *args], capture_output=True, text=True, check=False)


def test_token_commands_create_list_and_revoke_and_keep_only_a_hash(
    tmp_path: Path, database_url: str
) -> None:
    config = str(write_yaml(tmp_path / "hub.yaml", hub_settings(database_url)))
    made = _andon("token", "create", "--config", config, "--name", "li-wei", "--role",
                  "responder", "--line", "line1")  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("andon_")
    assert len(token) > 40
    again = _andon("token", "create", "--config", config, "--name", "li-wei", "--role", "viewer")
    assert again.returncode == 1
    assert "exists already" in again.stderr
    bad_line = _andon("token", "create", "--config", config, "--name", "x", "--role", "viewer",
                      "--line", "line9")  # fmt: skip
    assert (bad_line.returncode, bad_line.stderr.strip()) == (2, f"no such line in {config}: line9")
    listed = _andon("token", "list", "--config", config)
    assert listed.stdout.split("\t")[:3] == ["li-wei", "responder", "line1"]
    assert "active" in listed.stdout
    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT * FROM api_tokens").all()
    assert token not in repr(stored)
    revoked = _andon("token", "revoke", "--config", config, "li-wei")
    assert revoked.returncode == 0
    assert "revoked" in _andon("token", "list", "--config", config).stdout
    assert _andon("token", "revoke", "--config", config, "li-wei").returncode == 1
    with engine.connect() as conn:
        actions = [
            row[0] for row in conn.exec_driver_sql("SELECT action FROM audit_log ORDER BY id")
        ]
    engine.dispose()
    assert actions == ["token.created", "token.revoked"]


@pytest.mark.asyncio
async def test_the_audit_log_records_transitions_and_token_changes_newest_first(
    hub: HubUnderTest,
) -> None:
    call_id = hub.raise_call("st10")
    async with hub.client(Role.RESPONDER) as responder:
        await responder.post(f"/api/calls/{call_id}/acknowledge")
    async with hub.client(Role.ADMIN) as admin:
        made = await admin.post("/api/admin/tokens", json={"name": "board", "role": "viewer"})
        assert made.status_code == 201
        assert made.json()["token"].startswith("andon_")
        page = (await admin.get("/api/audit", params={"limit": "2"})).json()
        rest = (await admin.get("/api/audit", params={"cursor": page["next_cursor"]})).json()
    entries = page["entries"] + rest["entries"]
    assert [(e["action"], e["actor"], e["target"]) for e in entries] == [
        ("token.created", "admin-all", "token:board"),
        ("token.created", "test", "token:admin-all"),
        ("call.acknowledge", "responder-all", f"call:{call_id}"),
        ("token.created", "test", "token:responder-all"),
        ("call.raised", "st10", f"call:{call_id}"),
    ]
    assert rest["next_cursor"] is None


@pytest.mark.asyncio
async def test_an_invalid_reload_keeps_the_running_configuration_and_says_why(
    hub: HubUnderTest,
) -> None:
    old_call = hub.raise_call("st20", "help")
    settings = yaml.safe_load(hub.config_path.read_text())
    hub.config_path.write_text(hub.config_path.read_text().replace("reason_codes:", "reason_code:"))
    async with hub.client(Role.ENGINEER) as engineer:
        refused = await engineer.post("/api/admin/reload")
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        errors = refused.json()["config_errors"]
        assert any("reason_code: unknown key" in e for e in errors)
        status = (await engineer.get("/api/admin/config")).json()
        assert (status["ok"], status["errors"]) == (False, errors)
        metrics = hub.app.state.metrics.render().decode()
        assert "andon_hub_config_last_reload_ok 0.0" in metrics
        # Still running the old file: st20 is a station, help a call type.
        assert hub.raise_call("st20", "maintenance") > old_call

        # A valid file that drops station st20 and the call type help.
        settings["areas"][0]["lines"][0]["stations"] = [{"id": "st10"}, {"id": "st11"}]
        settings["call_types"] = ["maintenance", "quality"]
        write_yaml(hub.config_path, settings)
        reloaded = await engineer.post("/api/admin/reload")
        assert (reloaded.status_code, reloaded.json()["ok"]) == (200, True)
        assert "andon_hub_config_last_reload_ok 1.0" in hub.app.state.metrics.render().decode()
    assert hub.raise_call("st11") > 0
    async with hub.client(Role.RESPONDER) as responder:
        # The open call keeps its station and call type.
        resolved = await responder.post(
            f"/api/calls/{old_call}/resolve", json={"reason_code": "adjusted"}
        )
        assert (resolved.json()["station"], resolved.json()["call_type"]) == ("st20", "help")
    async with hub.client(Role.ADMIN) as admin:
        actions = [e["action"] for e in (await admin.get("/api/audit")).json()["entries"]]
    assert actions.count("config.reloaded") == 1
    assert actions.count("config.reload_failed") == 1


@pytest.mark.asyncio
async def test_the_refused_reload_is_documented_with_its_errors(hub: HubUnderTest) -> None:
    document = hub.app.openapi()
    schemas = document["components"]["schemas"]

    def named(reference: dict[str, str]) -> Any:
        return schemas[reference["$ref"].rsplit("/", 1)[-1]]

    answers = document["paths"]["/api/admin/reload"]["post"]["responses"]
    refused = named(answers["422"]["content"]["application/problem+json"]["schema"])
    assert refused["properties"]["config_errors"]["anyOf"][0]["items"] == {"type": "string"}


@pytest.mark.asyncio
async def test_health_is_503_with_the_reason_when_the_broker_or_database_is_gone(
    tmp_path: Path,
) -> None:
    import httpx

    with PostgresServer(tmp_path / "pg") as server:
        config_path = write_yaml(
            tmp_path / "hub.yaml", hub_settings(server.url, broker_port=free_port())
        )
        app = create_app(load_hub_config(config_path), config_path=config_path)
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 1))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://hub") as client,
        ):
            response = await client.get("/healthz")
            assert response.status_code == 503
            assert response.json()["problems"] == [
                "not connected to the MQTT broker",
                "measurements not subscribed at the MQTT broker",
            ]
            assert response.json()["measurements_subscribed"] is False
            assert response.json()["database_ok"] is True
            server.stop()
            down = (await client.get("/healthz")).json()
            assert down["database_ok"] is False
            assert any(p.startswith("database unreachable") for p in down["problems"])
            server.start()

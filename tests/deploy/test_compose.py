"""deploy/compose/compose.yaml is a valid Compose file (the specification's own JSON
schema, vendored), and what it mounts from the repository is there and loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from hub.config.file import load_hub_config

COMPOSE = Path(__file__).parents[2] / "deploy" / "compose"
SCHEMA = COMPOSE / "schema" / "compose-spec.json"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    return loaded


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )


def test_the_compose_file_validates_against_the_compose_schema() -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(compose())]
    assert errors == []


def test_the_schema_check_catches_a_mistake() -> None:
    broken = compose()
    broken["services"]["hub-a"]["restart_policy"] = "always"  # belongs under deploy:
    assert list(validator().iter_errors(broken))


def test_the_stack_has_its_parts() -> None:
    services = compose()["services"]
    assert set(services) == {
        "mosquitto",
        "postgres",
        "hub-a",
        "hub-b",
        "victoriametrics",
        "grafana",
    }


@pytest.mark.parametrize("hub", ["hub-a", "hub-b"])
def test_each_hub_file_loads_and_shares_the_site(hub: str) -> None:
    config = load_hub_config(COMPOSE / f"{hub}.yaml")
    assert config.shared_group == "hubs"
    assert config.storage.url is not None
    assert config.storage.url.startswith("postgresql+psycopg://")
    assert config.mqtt_client_id == f"andon-hub-plant-north-{hub[-1]}"


def test_what_the_stack_mounts_from_the_repository_is_there() -> None:
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            # ./mosquitto, ./certs and ./secrets are made at install time (see the file's top).
            if source.startswith("../") or source.startswith("./hub-"):
                assert (COMPOSE / source).exists(), f"{name} mounts {source}"
    assert (
        COMPOSE / compose()["x-hub"]["build"]["dockerfile"].removeprefix("deploy/compose/")
    ).exists()

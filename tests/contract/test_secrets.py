"""Secrets stay out of the YAML: {env:NAME} and {file:PATH} references, resolved on use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contract.config.models import BrokerConfig
from contract.secrets import SecretMissing, is_clear_text, resolve_secrets
from tests.helpers.hub import hub_settings
from tests.helpers.plant import write_yaml


def test_references_resolve_from_the_environment_and_from_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "mqtt.password"
    secret_file.write_text("from-a-file\n")
    monkeypatch.setenv("ANDON_TEST_PASSWORD", "from-env")
    assert BrokerConfig(password="{env:ANDON_TEST_PASSWORD}").resolved_password() == "from-env"
    assert BrokerConfig(password=f"{{file:{secret_file}}}").resolved_password() == "from-a-file"
    url = resolve_secrets("postgresql+psycopg://hub:{env:ANDON_TEST_PASSWORD}@db/andon")
    assert url == "postgresql+psycopg://hub:from-env@db/andon"
    assert BrokerConfig().resolved_password() is None
    assert is_clear_text("change-me")
    assert not is_clear_text("{env:X}")


def test_a_missing_secret_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SecretMissing, match="environment variable ANDON_NOT_SET is not set"):
        resolve_secrets("{env:ANDON_NOT_SET}")
    with pytest.raises(SecretMissing, match="cannot read secret file"):
        resolve_secrets(f"{{file:{tmp_path / 'absent'}}}")


def test_the_hub_refuses_to_start_without_its_secret(tmp_path: Path) -> None:
    settings = hub_settings(f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    settings["broker"]["password"] = "{env:ANDON_NOT_SET}"
    config = write_yaml(tmp_path / "hub.yaml", settings)
    done = subprocess.run(
        [sys.executable, "-m", "andon.cli", "hub", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"{config}: environment variable ANDON_NOT_SET is not set"

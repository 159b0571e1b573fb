"""``andon check-config`` checks what a file needs from the machine it runs on: a secret
it cannot read is an error on the line of its key, a host name that does not resolve a
warning; ``--offline`` checks the files alone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers.plant import ANDON

HUB = """\
site: plant
areas:
  - id: hall
    lines:
      - id: line1
        stations: [{{id: st10}}]
broker:
  host: {host}
  port: 1883
  username: andon-hub
  password: "{{file:{secret}}}"
storage:
  path: hub.sqlite3
api:
  metrics_token: "{{env:ANDON_TEST_METRICS_TOKEN}}"
call_types: [maintenance]
reason_codes: [adjusted]
"""


def check(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    environment = {k: v for k, v in os.environ.items() if k != "ANDON_TEST_METRICS_TOKEN"}
    done = subprocess.run(
        [*ANDON, "check-config", *args], cwd=tmp_path, capture_output=True, text=True,
        check=False, env={**environment, **(env or {})},
    )  # fmt: skip
    return done.returncode, done.stdout


def test_an_unreadable_secret_is_an_error_naming_it_with_its_line(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-hub.password"
    (tmp_path / "hub.yaml").write_text(HUB.format(host="127.0.0.1", secret=secret))
    status, out = check(tmp_path, "hub.yaml")
    assert status == 1
    assert out.splitlines() == [
        f"hub.yaml:11: broker.password: cannot read secret file {secret}: "
        "No such file or directory",
        "hub.yaml:15: api.metrics_token: environment variable ANDON_TEST_METRICS_TOKEN is not set",
    ]


def test_readable_secrets_pass(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-hub.password"
    secret.write_text("s3cret\n")
    (tmp_path / "hub.yaml").write_text(HUB.format(host="127.0.0.1", secret=secret))
    status, out = check(tmp_path, "hub.yaml", env={"ANDON_TEST_METRICS_TOKEN": "t0ken"})
    assert (status, out) == (0, "hub.yaml: ok\n")


def test_a_host_that_does_not_resolve_is_a_warning(tmp_path: Path) -> None:
    secret = tmp_path / "mqtt-hub.password"
    secret.write_text("s3cret\n")
    # .invalid never resolves (RFC 6761).
    (tmp_path / "hub.yaml").write_text(HUB.format(host="mqtt.plant.invalid", secret=secret))
    status, out = check(tmp_path, "hub.yaml", env={"ANDON_TEST_METRICS_TOKEN": "t0ken"})
    assert status == 0
    warning, ok = out.splitlines()
    assert warning.startswith(
        "hub.yaml:8: broker.host: warning: host name 'mqtt.plant.invalid' cannot be resolved"
    )
    assert ok == "hub.yaml: ok"


def test_offline_reads_no_secret_and_looks_up_no_name(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "mqtt-hub.password"
    (tmp_path / "hub.yaml").write_text(HUB.format(host="mqtt.plant.invalid", secret=missing))
    assert check(tmp_path, "--offline", "hub.yaml") == (0, "hub.yaml: ok\n")


def test_an_opcua_certificate_that_cannot_be_read_is_an_error_with_its_line(
    tmp_path: Path,
) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "edge.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    (tmp_path / "edge.yaml").write_text(
        "edge_id: edge-1\nsite: plant\narea: hall\nline: line1\n"
        "devices:\n"
        "  - kind: opcua\n"
        "    id: ua1\n"
        "    endpoint: opc.tcp://127.0.0.1:4840\n"
        "    security_policy: Basic256Sha256\n"
        "    security_mode: SignAndEncrypt\n"
        "    certificate: pki/edge.crt\n"
        "    private_key: pki/edge.key\n"
    )
    status, out = check(tmp_path, "edge.yaml")
    assert status == 1
    assert out.splitlines() == [
        "edge.yaml:12: devices[0].private_key: cannot read pki/edge.key: No such file or directory",
    ]
    assert check(tmp_path, "--offline", "edge.yaml") == (0, "edge.yaml: ok\n")

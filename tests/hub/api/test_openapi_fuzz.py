"""Schemathesis against a live hub, on SQLite and on PostgreSQL: every check it has
(server errors, status codes, content types, headers and bodies as documented, negative
data refused, valid data accepted, authentication, methods), over all of its phases
(the document's examples, coverage of each parameter's edges, random fuzzing, and the
stateful phase that chains operations by the links it infers).

The hub is real (uvicorn on loopback, with a real Mosquitto so /healthz is healthy) and
is fuzzed with an admin token. ``MAX_EXAMPLES`` keeps both runs within about a minute on
a CI machine; ``ANDON_FUZZ_EXAMPLES=200`` fuzzes longer on a developer's. The seed of a
failing run is in its output (``st run --seed`` replays it).

The two event streams are left out: a stream never ends, so the fuzzer would wait for
each one until its request timeout. tests/hub/api/test_api_streams.py and
tests/hub/web/test_board_stream.py cover them; their refusals come from the same gate and
dependencies as every other route's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.access.permissions import Role
from testbed.broker import MosquittoBroker
from tests.helpers.live_hub import LiveHub, live_hub
from tests.helpers.waiting import wait_until

MAX_EXAMPLES = int(os.environ.get("ANDON_FUZZ_EXAMPLES", "10"))
SCHEMATHESIS = Path(sys.executable).parent / "st"


@pytest.fixture
def fuzzed_hub(tmp_path: Path, database_url: str, broker: MosquittoBroker) -> Iterator[LiveHub]:
    broker_settings = {"host": broker.host, "port": broker.port}
    # Failed sign-ins wait at most 10 ms here: the fuzzer's many wrong passwords would
    # otherwise wait up to the default's 10 s each, past its request timeout.
    auth = {"failed_sign_ins": {"delay_s": 0.01, "max_delay_s": 0.01}}
    with live_hub(tmp_path, database_url, broker=broker_settings, auth=auth) as hub:
        wait_until(
            lambda: httpx.get(f"{hub.url}/healthz", timeout=5).status_code == 200,
            timeout=30,
            what="hub healthy",
        )
        yield hub


@pytest.mark.timeout(300)
def test_schemathesis_finds_nothing_in_the_api(fuzzed_hub: LiveHub, tmp_path: Path) -> None:
    token = fuzzed_hub.token(Role.ADMIN)
    command = [
        str(SCHEMATHESIS), "run", f"{fuzzed_hub.url}/openapi.json",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",
        "--request-timeout", "10",
        "--exclude-path-regex", "/events$",
        # A time parameter is both a date-time and of the years 1970 to 2999 (a pattern):
        # generating it filters out many candidates, which is no finding about the API.
        "--suppress-health-check", "filter_too_much",
        "--report", "junit", "--report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=tmp_path, timeout=280, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20_000:]
    assert "Stateful" in output, output[-5_000:]  # the stateful phase ran

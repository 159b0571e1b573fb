"""Fixtures that start real parts: a Mosquitto broker, a Modbus TCP PLC simulator and a
PostgreSQL server, and the databases the hub's storage is tested on."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from testbed.broker import MosquittoBroker
from testbed.plc_sim import SimulatedPlc
from testbed.postgres import PostgresServer
from testbed.s7_plc import SimulatedS7Plc
from tests.helpers.plant import STARTED


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test's report ends with the logs of the andon processes it started, so a
    failure on a CI machine says what the hub and the edge saw."""
    report: pytest.TestReport = yield
    if report.failed:
        for process in STARTED:
            report.sections.append((f"log {process.log_path}", process.log_tail()))
    if report.when == "teardown":
        STARTED.clear()
    return report


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    with MosquittoBroker(tmp_path / "mosquitto") as started:
        yield started


@pytest.fixture
def plc() -> Iterator[SimulatedPlc]:
    with SimulatedPlc() as started:
        yield started


@pytest.fixture
def s7() -> Iterator[SimulatedS7Plc]:
    """A simulated S7 PLC (python-snap7's server), stopped after the test."""
    with SimulatedS7Plc() as server:
        yield server


@pytest.fixture
def topic_prefix() -> str:
    """A prefix of its own for each test, so no test sees another's messages."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the session, started by the first test that asks for it.

    initdb takes about a second; a database per test (``postgres_url``) takes a few
    hundredths, so tests share the server and not its databases.
    """
    # Not under pytest's own temporary folder: another pytest session starting on this
    # machine closes that folder to other users, and the server runs as one of them.
    with (
        tempfile.TemporaryDirectory(prefix="andon-postgres-") as data_dir,
        PostgresServer(Path(data_dir)) as server,
    ):
        yield server


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of an empty PostgreSQL database of this test's own."""
    name = f"test_{uuid.uuid4().hex}"
    url = postgres.create_database(name)
    yield url
    # A database per test would otherwise pile up some 8 MB each in the session's server.
    postgres.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLAlchemy URL of an empty database, once on each backend the hub supports.

    PostgreSQL is started only when a test with this fixture runs its ``[postgresql]``
    case, so ``pytest -k sqlite`` needs no PostgreSQL installed.
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


# Folders whose tests start whole plants of processes (a broker, a PLC, hubs, edges,
# Chromium) and take seconds to tens of seconds each.
PLANTS_FIRST = ("bench/", "system/", "deploy/", "docs/", "hub/web/", "andon/test_demo")


def _order(item: pytest.Item) -> int:
    if item.get_closest_marker("long") is not None:
        return 0
    tests = Path(__file__).parent
    if not item.path.is_relative_to(tests):
        return 2
    return 1 if item.path.relative_to(tests).as_posix().startswith(PLANTS_FIRST) else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests go first: those marked ``long`` (minutes of waiting), then the
    whole plants. On several workers they then run beside the many short tests, which
    fill the workers' ends, instead of one of them stretching the end of the run (the
    300 s Modbus outage started last would hold a worker 5 minutes after the rest)."""
    items.sort(key=_order)

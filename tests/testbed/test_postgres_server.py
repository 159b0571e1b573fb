"""The PostgreSQL server the tests start themselves, and the database fixtures on top.

The storage tests rely on these: both backends commit and roll back alike, the server
is PostgreSQL on loopback only, it stops when asked (also when the test body failed) and
starts again with its data, databases are isolated, and ``FOR UPDATE SKIP LOCKED`` lets
two hubs share the escalation loop.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from testbed.postgres import PostgresServer

metadata = sa.MetaData()
steps = sa.Table(
    "escalation_steps",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("station", sa.String(40), nullable=False),
)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    metadata.create_all(engine)
    yield engine
    engine.dispose()


def stored_ids(engine: sa.Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(sa.select(steps.c.id).order_by(steps.c.id)))


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def test_a_transaction_commits_or_rolls_back_whole_on_both_backends(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        connection.execute(steps.insert(), [{"id": 1, "station": "s1"}, {"id": 2, "station": "s2"}])
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(steps.insert(), [{"id": 3, "station": "s3"}, {"id": 4, "station": "s4"}])
        transaction.rollback()
    assert stored_ids(engine) == [1, 2]


def test_the_postgresql_case_runs_on_postgresql(engine: sa.Engine, database_url: str) -> None:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert database_url.startswith("sqlite:///")
        else:
            version = connection.scalar(sa.text("SELECT version()"))
            assert str(version).startswith("PostgreSQL ")
            assert engine.dialect.driver == "psycopg"


def test_the_server_listens_on_127_0_0_1_only(postgres: PostgresServer) -> None:
    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SHOW listen_addresses")) == "127.0.0.1"
            assert str(connection.scalar(sa.text("SELECT inet_server_addr()"))) == "127.0.0.1"
    finally:
        engine.dispose()
    assert accepts_connections("127.0.0.1", postgres.port)
    # Linux answers all of 127.0.0.0/8 on loopback: only a server bound to 127.0.0.1
    # itself refuses 127.0.0.2 (and IPv6's ::1).
    assert not accepts_connections("127.0.0.2", postgres.port)
    assert not accepts_connections("::1", postgres.port)


def test_the_server_never_runs_as_root(postgres: PostgresServer) -> None:
    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as connection:
            backend_pid = connection.scalar(sa.text("SELECT pg_backend_pid()"))
            # Read while connected: the backend process ends with its connection.
            status = Path(f"/proc/{backend_pid}/status").read_text()
    finally:
        engine.dispose()
    real_uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
    assert real_uid != 0
    if os.geteuid() != 0:
        assert real_uid == os.geteuid()


def store_a_row_then_fail(server: PostgresServer) -> None:
    with server:
        engine = sa.create_engine(server.url)
        metadata.create_all(engine)
        with engine.begin() as connection:
            connection.execute(steps.insert(), {"id": 7, "station": "s7"})
        engine.dispose()
        raise RuntimeError("the test failed")


def test_stop_stops_the_server_when_the_body_failed_and_start_keeps_the_data(
    tmp_path: Path,
) -> None:
    server = PostgresServer(tmp_path / "postgres")
    with pytest.raises(RuntimeError, match="the test failed"):
        store_a_row_then_fail(server)
    assert not server.running
    assert not accepts_connections(server.host, server.port)

    with server:
        engine = sa.create_engine(server.url)
        assert stored_ids(engine) == [7]
        engine.dispose()
    assert not accepts_connections(server.host, server.port)
    server.stop()  # a second stop is harmless


def test_databases_from_create_database_are_isolated(postgres: PostgresServer) -> None:
    names = [f"isolated_{uuid.uuid4().hex}" for _ in range(2)]
    engines = [sa.create_engine(postgres.create_database(name)) for name in names]
    try:
        metadata.create_all(engines[0])
        with engines[0].begin() as connection:
            connection.execute(steps.insert(), {"id": 1, "station": "s1"})
        assert not sa.inspect(engines[1]).has_table(steps.name)
        metadata.create_all(engines[1])
        assert stored_ids(engines[0]) == [1]
        assert stored_ids(engines[1]) == []
    finally:
        for engine, name in zip(engines, names, strict=True):
            engine.dispose()
            postgres.drop_database(name)


def test_create_database_refuses_a_name_that_needs_quoting(postgres: PostgresServer) -> None:
    with pytest.raises(ValueError, match="plain lower-case identifier"):
        postgres.create_database('x"; DROP DATABASE andon; --')


def test_skip_locked_hands_a_locked_row_to_nobody_else(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(steps.insert(), [{"id": n, "station": f"s{n}"} for n in (1, 2, 3)])
    next_due = sa.select(steps.c.id).order_by(steps.c.id).limit(1)
    try:
        with engine.connect() as first, engine.connect() as second:
            with first.begin():
                assert first.scalar(next_due.with_for_update(skip_locked=True)) == 1
                with second.begin():
                    assert second.scalar(next_due.with_for_update(skip_locked=True)) == 2
                    every_free = sa.select(steps.c.id).order_by(steps.c.id)
                    free = second.scalars(every_free.with_for_update(skip_locked=True))
                    assert list(free) == [2, 3]
            # The first transaction ended: its row is free again.
            with second.begin():
                assert second.scalar(next_due.with_for_update(skip_locked=True)) == 1
    finally:
        engine.dispose()

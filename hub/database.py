"""The hub's database: an engine for SQLite (WAL) or PostgreSQL, and schema upgrades.

SQLite is the embedded default; ``storage.url`` selects any SQLAlchemy URL, PostgreSQL
through psycopg 3. One code path serves both: writes run in ``write()`` transactions,
which on SQLite take the write lock at BEGIN (``BEGIN IMMEDIATE``) so that two writers
queue on the busy timeout instead of failing half-way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection

from contract.secrets import resolve_secrets
from hub.config import StorageConfig

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SKELETON_REVISION = "0001"
# How long a write waits for another writer's lock before it fails (and the messages
# it carried are redelivered): long enough for a backup or a migration to pass.
LOCK_TIMEOUT_MS = 5_000
STATEMENT_TIMEOUT_MS = 30_000


def database_url(storage: StorageConfig) -> str:
    """The SQLAlchemy URL of the configured database, secrets resolved."""
    if storage.url is not None:
        return resolve_secrets(storage.url)
    return f"sqlite:///{storage.path}"


def open_engine(url: str) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created and WAL switched on."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=5,
        connect_args={
            "options": (
                f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}"
            ),
            "connect_timeout": 5,
            # A server that vanishes without closing the connection is noticed in seconds.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        },
    )


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False})
    database = engine.url.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event decide how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={LOCK_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get("writes", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


# Any fixed number, the same in every hub: the key of the session lock an upgrade holds.
UPGRADE_LOCK = 0x616E646F6E  # "andon"


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision in place; return that revision.

    A database the walking skeleton wrote has its tables but no version table: it is
    stamped at the skeleton's revision first, then upgraded like any other."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect().execution_options(writes=True) as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # Hubs sharing one database start together: one upgrades, the others wait
            # for it and find the schema current (two would both create alembic_version).
            connection.exec_driver_sql(f"SELECT pg_advisory_lock({UPGRADE_LOCK})")
        config.attributes["connection"] = connection
        tables = set(inspect(connection).get_table_names())
        if "calls" in tables and "alembic_version" not in tables:
            log.info("database written by the first release: upgrading it in place")
            command.stamp(config, SKELETON_REVISION)
        command.upgrade(config, "head")
        connection.commit()
        revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        if postgres:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({UPGRADE_LOCK})")
            connection.commit()
    return str(revision)

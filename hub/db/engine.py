"""The hub's database: an engine for SQLite (WAL) or PostgreSQL, and schema upgrades.

SQLite is the embedded default; ``storage.url`` selects any SQLAlchemy URL, PostgreSQL
through psycopg 3. One code path serves both: writes run in ``write()`` transactions,
which on SQLite take the write lock at BEGIN (``BEGIN IMMEDIATE``) so that two writers
queue on the busy timeout instead of failing half-way.

The SQLite file holds the API tokens' hashes and the acknowledgement links' signing key
(hub/escalation/links.py), so it is made readable by the hub's user only, whatever the
umask: the hub creates it with mode 0600 (in a folder of mode 0700 when it makes the
folder) before SQLite opens it, and SQLite gives its ``-wal``, ``-shm`` and ``-journal``
files the database file's mode. A file an older hub left open to others is closed to
them at the next start.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection

from contract.secrets import resolve_secrets
from hub.config.file import StorageConfig

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SKELETON_REVISION = "0001"
# How long a write waits for another writer's lock before it fails (and the messages
# it carried are redelivered): long enough for a backup or a migration to pass.
LOCK_TIMEOUT_MS = 5_000
STATEMENT_TIMEOUT_MS = 30_000
PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
# The files SQLite keeps beside a database.
SIDE_FILES = ("-wal", "-shm", "-journal")


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
            # No JIT: a report's query that the planner thinks large (a month of a site's
            # stops) spent half its time compiling (100 of 190 ms) for a run of 90 ms.
            "options": (
                f"-c lock_timeout={LOCK_TIMEOUT_MS} -c statement_timeout={STATEMENT_TIMEOUT_MS}"
                " -c jit=off"
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
        create_private(Path(database))

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


def create_private(database: Path) -> None:
    """``database`` exists and it and its side files are readable by this user only.

    An empty file is a valid SQLite database, so creating it here decides its mode; the
    mode is then set with chmod, which the umask does not touch."""
    if not database.parent.exists():
        database.parent.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
        # mkdir's mode passes through the umask, which may also take the owner's bits.
        database.parent.chmod(PRIVATE_FOLDER)
    os.close(os.open(database, os.O_RDONLY | os.O_CREAT, PRIVATE_FILE))
    for path in (database, *(database.with_name(database.name + s) for s in SIDE_FILES)):
        _close_to_others(path)


def _close_to_others(path: Path) -> None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(found.st_mode)
    if mode == PRIVATE_FILE:
        return
    if hasattr(os, "geteuid") and found.st_uid != os.geteuid():
        # Another user's file (an operator's choice): ours to use, not to change.
        log.warning("%s is not the hub's own file; left at mode %o", path, mode)
        return
    path.chmod(PRIVATE_FILE)
    if mode & 0o077:
        log.warning("%s was open to other users (mode %o): now %o", path, mode, PRIVATE_FILE)


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

"""Transactions on the hub's database: one write or read at a time, and a ping.

Every write is one transaction; ingest applies a whole batch of messages in one, so the
cost of a commit is shared by every message that arrived together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection


class Database:
    """The hub's database (SQLite or PostgreSQL), opened as write or read transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (on SQLite it holds the write lock from its start)."""
        with self.engine.connect().execution_options(writes=True) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> None:
        """Raise if the database cannot answer."""
        with self.read() as conn:
            conn.execute(text("SELECT 1"))

"""The migrations build exactly the tables the code declares, on both backends; the
index of open calls knows the lifecycle's open states."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from hub.calls.lifecycle import OPEN_STATES
from hub.db.engine import open_engine, upgrade
from hub.db.tables import OPEN_STATE_CONDITION, metadata


def test_the_migrated_schema_is_the_declared_one(database_url: str) -> None:
    engine = open_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == []


def test_the_index_of_open_calls_has_the_lifecycles_open_states() -> None:
    # The index's condition is SQL text that migration 0002 froze; the states are the
    # lifecycle's. One place names them, the other must agree.
    states = ", ".join(f"'{state}'" for state in OPEN_STATES)
    assert f"state IN ({states})" == OPEN_STATE_CONDITION

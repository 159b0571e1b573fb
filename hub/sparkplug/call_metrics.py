"""The last value of each Sparkplug metric mapped to a call, kept in the hub's database."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.tables import sparkplug_call_metrics as table
from hub.db.transactions import Database
from hub.measurements.repository import upsert
from hub.sparkplug.sessions import MetricKey


def load_call_metrics(database: Database) -> dict[MetricKey, bool]:
    with database.read() as conn:
        rows = conn.execute(select(table)).all()
    return {
        (row.group_id, row.edge_node_id, row.device_id or None, row.metric): bool(row.value)
        for row in rows
    }


def save_call_metrics(database: Database, values: dict[MetricKey, bool]) -> None:
    """Keep these values (the keys come from the hub's file: bounded there)."""
    rows = [
        {"group_id": group, "edge_node_id": node, "device_id": device or "", "metric": metric,
         "value": value}
        for (group, node, device, metric), value in values.items()
    ]  # fmt: skip
    with database.write() as conn:
        upsert(conn, table, rows)

"""SPC anomalies and device liveness from the edges, and the part a call was raised for."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("part_serial", sa.String(128)))
        batch.add_column(sa.Column("part_lot", sa.String(128)))
    op.create_table(
        "anomalies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False, unique=True),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("characteristic", sa.String(64), nullable=False),
        sa.Column("chart", sa.String(16), nullable=False),
        sa.Column("measurement", sa.String(64), nullable=False),
        sa.Column("tests", sa.JSON, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("center", sa.Float, nullable=False),
        sa.Column("lcl", sa.Float, nullable=False),
        sa.Column("ucl", sa.Float, nullable=False),
        sa.Column("subgroup", sa.BigInteger, nullable=False),
        sa.Column("part_serial", sa.String(128)),
        sa.Column("part_lot", sa.String(128)),
        sa.Column("detected_at", UtcDateTime, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_anomalies_characteristic", "anomalies", ["characteristic"])
    op.create_table(
        "devices",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("device", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(256), nullable=False),
        sa.Column("changed_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("devices")
    op.drop_index("ix_anomalies_characteristic", "anomalies")
    op.drop_table("anomalies")
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("part_lot")
        batch.drop_column("part_serial")

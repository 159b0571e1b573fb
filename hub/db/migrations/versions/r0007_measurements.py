"""Measurements from the edges: SPC points (bounded), each characteristic's newest lines,
and quality counters summed per station and hour."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "spc_points",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("characteristic", sa.String(64), nullable=False),
        sa.Column("chart", sa.String(16), nullable=False),
        sa.Column("site", sa.String(64), nullable=False),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("line", sa.String(64), nullable=False),
        sa.Column("station", sa.String(64), nullable=False),
        sa.Column("edge_id", sa.String(64), nullable=False),
        sa.Column("measurement", sa.String(64), nullable=False),
        sa.Column("subgroup", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("center", sa.Float, nullable=False),
        sa.Column("lcl", sa.Float, nullable=False),
        sa.Column("ucl", sa.Float, nullable=False),
        sa.Column("tests", sa.JSON, nullable=False),
        sa.Column("part_serial", sa.String(128)),
        sa.Column("part_lot", sa.String(128)),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_spc_points_characteristic", "spc_points", ["characteristic", "id"])
    op.create_index("ix_spc_points_at", "spc_points", ["at"])
    op.create_table(
        "characteristics",
        sa.Column("characteristic", sa.String(64), primary_key=True),
        sa.Column("area", sa.String(64), primary_key=True),
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(64), primary_key=True),
        sa.Column("chart", sa.String(16), nullable=False),
        sa.Column("measurement", sa.String(64), nullable=False),
        sa.Column("edge_id", sa.String(64), nullable=False),
        sa.Column("center", sa.Float, nullable=False),
        sa.Column("lcl", sa.Float, nullable=False),
        sa.Column("ucl", sa.Float, nullable=False),
        sa.Column("last_subgroup", sa.BigInteger, nullable=False),
        sa.Column("last_point_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "measurement_edges",
        sa.Column("edge_id", sa.String(64), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("received_at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "quality_counters",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(64), primary_key=True),
        sa.Column("counter", sa.String(16), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("at", UtcDateTime, nullable=False),
    )
    op.create_table(
        "quality_counts",
        sa.Column("line", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(64), primary_key=True),
        sa.Column("hour", UtcDateTime, primary_key=True),
        sa.Column("area", sa.String(64), nullable=False),
        sa.Column("inspected", sa.BigInteger, nullable=False),
        sa.Column("defective", sa.BigInteger, nullable=False),
        sa.Column("reworked", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("quality_counts")
    op.drop_table("quality_counters")
    op.drop_table("measurement_edges")
    op.drop_table("characteristics")
    op.drop_index("ix_spc_points_at", "spc_points")
    op.drop_index("ix_spc_points_characteristic", "spc_points")
    op.drop_table("spc_points")

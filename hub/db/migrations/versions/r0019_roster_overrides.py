"""Roster overrides: one person answers for another for a while ("Chen covers Wang
tonight"), made through the API, the command line or the page, not the hub's file."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "roster_overrides",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("covers", sa.String(64), nullable=False),
        sa.Column("starts_at", UtcDateTime, nullable=False),
        sa.Column("ends_at", UtcDateTime, nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_roster_overrides_ends_at", "roster_overrides", ["ends_at"])


def downgrade() -> None:
    op.drop_index("ix_roster_overrides_ends_at", table_name="roster_overrides")
    op.drop_table("roster_overrides")

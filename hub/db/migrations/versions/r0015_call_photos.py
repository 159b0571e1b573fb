"""Photos on calls: a row per photo (its file lives under the hub's data directory)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_photos",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.Integer, sa.ForeignKey("calls.id"), nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("thumb_bytes", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
    )
    op.create_index("ix_call_photos_call_id", "call_photos", ["call_id"])


def downgrade() -> None:
    op.drop_index("ix_call_photos_call_id", "call_photos")
    op.drop_table("call_photos")

"""Messages set aside: valid by the contract, refused by the database for their content,
kept with the reason for an admin to read (``GET /api/dead-letters``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", UtcDateTime, nullable=False),
        sa.Column("path", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(512), nullable=False),
        sa.Column("edge_id", sa.String(64)),
        sa.Column("seq", sa.BigInteger),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("detail", sa.String(1000), nullable=False),
        sa.Column("payload_size", sa.Integer, nullable=False),
        sa.Column("payload_base64", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dead_letters")

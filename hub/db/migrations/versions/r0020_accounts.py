"""People's accounts (local, or vouched for by the plant's directory) and their sign-ins:
a bearer token for one shift, named after the person who signed in."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.tables import UtcDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("person", sa.String(64)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("disabled_at", UtcDateTime),
    )
    op.create_table(
        "sign_ins",
        sa.Column("id", _BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), sa.ForeignKey("accounts.name"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("expires_at", UtcDateTime, nullable=False),
        sa.Column("ended_at", UtcDateTime),
    )
    op.create_index("ix_sign_ins_account", "sign_ins", ["account"])


def downgrade() -> None:
    op.drop_index("ix_sign_ins_account", "sign_ins")
    op.drop_table("sign_ins")
    op.drop_table("accounts")

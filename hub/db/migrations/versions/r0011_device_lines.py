"""The line of each device an edge reports (its status event's line), so a token limited
to lines reads only those lines' devices and edges (null: reported before this revision,
shown to site-wide tokens only)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("line", sa.String(64)))
    op.create_index("devices_line", "devices", ["line"])


def downgrade() -> None:
    op.drop_index("devices_line", table_name="devices")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("line")

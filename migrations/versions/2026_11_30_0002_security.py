"""security: projects open to all officers, API token expiry, audit hash chain, throttle

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Adds columns with defaults, so it runs on a database holding live rows. The audit rows already
there are chained (in id order) by revision 0003, which also makes the table append-only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project") as batch:
        batch.add_column(
            sa.Column(
                "open_to_all_officers", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", models.base.UTCDateTime(), nullable=True))
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(
            sa.Column("prev_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("row_hash", sa.String(length=64), nullable=False, server_default="")
        )
    op.create_table(
        "throttle",
        sa.Column("bucket", sa.String(length=30), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", models.base.UTCDateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "key"),
    )


def downgrade() -> None:
    op.drop_table("throttle")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("project") as batch:
        batch.drop_column("open_to_all_officers")

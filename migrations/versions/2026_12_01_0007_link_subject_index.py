"""action links: an index on the subject they are about

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

Every decision, edit and withdrawal revokes a subject's live links by (subject_type,
subject_id), and so does every new sign-in link for a person. Without an index each of those
UPDATEs read the whole action_token table, which only grows (every emailed link is kept):
338 µs per decision with 1,700 links in the table (bench/README.md, issue 10), and linearly
more after that. Adds the index only; rows are untouched (tests/platform/test_migrations.py).
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_action_token_subject", "action_token", ["subject_type", "subject_id"])


def downgrade() -> None:
    op.drop_index("ix_action_token_subject", table_name="action_token")

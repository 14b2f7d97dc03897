"""fewer indexes written by every action: RFC status, outbox times and claims, step chase dates

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Every RFC move, every queued email and every step opened or closed also wrote the entries of
indexes that no query needs (bench/README.md, issue 10, seventh pass):

- rfc.status: RFCs are found by project or requester first; each move rewrote the entry.
- outbox_message.next_attempt_at and claim_id: a claim finds queued and sending rows through
  the status index (each status's rows sit together in it), and results are recorded by id.
- step.next_chase_on: the chase's due test reads the open steps through closed_at's index
  (open steps are the work waiting now, not the history), so the entry each new step wrote
  and each reminder rewrote was never read.

Indexes only: rows are untouched (tests/platform/test_migrations.py).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_rfc_status", table_name="rfc")
    op.drop_index("ix_outbox_message_next_attempt_at", table_name="outbox_message")
    op.drop_index("ix_outbox_message_claim_id", table_name="outbox_message")
    op.drop_index("ix_step_next_chase_on", table_name="step")


def downgrade() -> None:
    op.create_index("ix_step_next_chase_on", "step", ["next_chase_on"])
    op.create_index("ix_outbox_message_claim_id", "outbox_message", ["claim_id"])
    op.create_index("ix_outbox_message_next_attempt_at", "outbox_message", ["next_attempt_at"])
    op.create_index("ix_rfc_status", "rfc", ["status"])

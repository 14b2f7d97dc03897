"""platform subjects: steps, outbox rows and links refer to any domain's subject

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

`approval_task` (RFC-only) becomes `step`, keyed by (subject_type, subject_id,
subject_version) like action_token and audit_event already are. Rows keep their ids, so the
reminder keys already queued ("rfc_reminder:task7:n1") still name the same step and nothing is
sent twice across the upgrade. `next_chase_on` (when the chase next looks at a step) is the due
date for a step never reminded, and for one reminded, the date it was reminded on moved on by
its project's reminder interval in working days, as the chase computed it before.

`outbox_message.rfc_id/expect_rfc_status` become `subject_type/subject_id/expect_status`;
queued RFC emails keep working. Reminders and escalations still queued become one-item chase
digests (the chase now sends one digest per person a day), with the same words and links.
Runs on a database holding live rows (tests/test_migrations.py).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _local_date(at: datetime) -> date:
    from core import clock

    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(clock.local_tz()).date()


def upgrade() -> None:
    from core import clock

    op.create_table(
        "step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("subject_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("next_chase_on", sa.Date(), nullable=False),
        sa.Column("reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminder_count", sa.Integer(), nullable=False),
        sa.Column("escalated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_step_owner_id", "step", ["owner_id"])
    op.create_index("ix_step_closed_at", "step", ["closed_at"])
    op.create_index("ix_step_next_chase_on", "step", ["next_chase_on"])
    op.create_index("ix_step_subject", "step", ["subject_type", "subject_id"])

    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT t.id, t.rfc_id, t.rfc_version, t.kind, t.owner_id, t.created_at, t.due_on, "
            "t.reminded_at, t.reminder_count, t.escalated_at, t.closed_at, t.outcome, "
            "p.reminder_working_days FROM approval_task t JOIN rfc r ON r.id = t.rfc_id "
            "JOIN project p ON p.id = r.project_id ORDER BY t.id"
        )
    ).all()
    step = sa.table(
        "step",
        *(
            sa.column(c)
            for c in (
                "id",
                "subject_type",
                "subject_id",
                "subject_version",
                "kind",
                "owner_id",
                "opened_at",
                "due_on",
                "next_chase_on",
                "reminded_at",
                "reminder_count",
                "escalated_at",
                "closed_at",
                "outcome",
            )
        ),
    )
    as_dt = models.base.UTCDateTime()
    dialect = conn.dialect

    def when(value):  # type: ignore[no-untyped-def]
        # SQLite hands back text: read it as the column type does.
        if value is None or not isinstance(value, str):
            return value
        return as_dt.process_result_value(datetime.fromisoformat(value), dialect)

    def day(value):  # type: ignore[no-untyped-def]
        return date.fromisoformat(value) if isinstance(value, str) else value

    values = []
    for r in rows:
        due, reminded = day(r.due_on), when(r.reminded_at)
        next_on = (
            due
            if reminded is None
            else clock.add_working_days(_local_date(reminded), r.reminder_working_days)
        )
        values.append(
            {
                "id": r.id,
                "subject_type": "rfc",
                "subject_id": r.rfc_id,
                "subject_version": r.rfc_version,
                "kind": r.kind,
                "owner_id": r.owner_id,
                "opened_at": when(r.created_at),
                "due_on": due,
                "next_chase_on": next_on,
                "reminded_at": reminded,
                "reminder_count": r.reminder_count,
                "escalated_at": when(r.escalated_at),
                "closed_at": when(r.closed_at),
                "outcome": r.outcome,
            }
        )
    if values:
        op.bulk_insert(step, values)
    if dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('step', 'id'), "
                "COALESCE((SELECT max(id) FROM step), 0) + 1, false)"
            )
        )
    op.drop_index("ix_approval_task_rfc_id", table_name="approval_task")
    op.drop_index("ix_approval_task_owner_id", table_name="approval_task")
    op.drop_index("ix_approval_task_closed_at", table_name="approval_task")
    op.drop_table("approval_task")

    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("subject_type", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("expect_status", sa.String(length=30), nullable=True))
    conn.execute(
        sa.text(
            "UPDATE outbox_message SET subject_type = 'rfc', subject_id = rfc_id, "
            "expect_status = expect_rfc_status WHERE rfc_id IS NOT NULL"
        )
    )
    op.drop_index("ix_outbox_message_rfc_id", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        if dialect.name == "postgresql":
            batch.drop_constraint("outbox_message_rfc_id_fkey", type_="foreignkey")
        batch.drop_column("rfc_id")
        batch.drop_column("expect_rfc_status")
    op.create_index("ix_outbox_message_subject", "outbox_message", ["subject_type", "subject_id"])
    _queued_chases_become_digests(conn)


ACTIONS = {"rfc_reminder": "remind", "rfc_escalation": "escalate"}


def _queued_chases_become_digests(conn: sa.engine.Connection) -> None:
    outbox = sa.table(
        "outbox_message",
        sa.column("id"),
        sa.column("template"),
        sa.column("context", sa.JSON()),
        sa.column("subject_type"),
        sa.column("subject_id"),
        sa.column("expect_status"),
        sa.column("action_token_id"),
    )
    rows = conn.execute(
        sa.text(
            "SELECT id, template, context, subject_id, expect_status, action_token_id "
            "FROM outbox_message WHERE template IN ('rfc_reminder', 'rfc_escalation') "
            "AND status IN ('queued', 'sending')"
        )
    ).all()
    for r in rows:
        old = r.context if isinstance(r.context, dict) else json.loads(r.context or "{}")
        item = {
            **old,
            "action": ACTIONS[r.template],
            "subject_type": "rfc",
            "subject_id": r.subject_id,
            "expect_status": r.expect_status,
            "action_token_id": r.action_token_id,
            "step_id": None,
        }
        conn.execute(
            outbox.update()
            .where(outbox.c.id == r.id)
            .values(
                template="chase_digest",
                context={"items": [item]},
                subject_type=None,
                subject_id=None,
                expect_status=None,
                action_token_id=None,
            )
        )


def downgrade() -> None:
    """Back to approval_task and rfc_id: RFC steps and emails only (no other domain existed)."""
    conn = op.get_bind()
    op.drop_index("ix_outbox_message_subject", table_name="outbox_message")
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(
            sa.Column(
                "rfc_id",
                sa.Integer(),
                sa.ForeignKey("rfc.id", name="outbox_message_rfc_id_fkey"),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("expect_rfc_status", sa.String(length=20), nullable=True))
    conn.execute(
        sa.text(
            "UPDATE outbox_message SET rfc_id = subject_id, expect_rfc_status = expect_status "
            "WHERE subject_type = 'rfc'"
        )
    )
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("expect_status")
        batch.drop_column("subject_id")
        batch.drop_column("subject_type")
    op.create_index("ix_outbox_message_rfc_id", "outbox_message", ["rfc_id"])

    op.create_table(
        "approval_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rfc_id", sa.Integer(), nullable=False),
        sa.Column("rfc_version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("reminded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminder_count", sa.Integer(), nullable=False),
        sa.Column("escalated_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.ForeignKeyConstraint(["owner_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["rfc_id"], ["rfc.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_approval_task_closed_at", "approval_task", ["closed_at"])
    op.create_index("ix_approval_task_owner_id", "approval_task", ["owner_id"])
    op.create_index("ix_approval_task_rfc_id", "approval_task", ["rfc_id"])
    conn.execute(
        sa.text(
            "INSERT INTO approval_task (id, rfc_id, rfc_version, kind, owner_id, created_at, due_on, "
            "reminded_at, reminder_count, escalated_at, closed_at, outcome) "
            "SELECT id, subject_id, subject_version, kind, owner_id, opened_at, due_on, "
            "reminded_at, reminder_count, escalated_at, closed_at, outcome FROM step "
            "WHERE subject_type = 'rfc'"
        )
    )
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text(
                "SELECT setval(pg_get_serial_sequence('approval_task', 'id'), "
                "COALESCE((SELECT max(id) FROM approval_task), 0) + 1, false)"
            )
        )
    op.drop_table("step")

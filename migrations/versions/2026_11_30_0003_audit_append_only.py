"""audit append-only: chain the rows already there, then refuse UPDATE, DELETE and TRUNCATE

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Runs on a database holding live rows: the existing audit rows are hashed in id order (0002
added the columns, empty) before the triggers go on, since afterwards no row can be updated.

The hash below is a frozen copy of services.audit.row_hash as it was for this revision, so
this migration keeps producing what it produced when it was reviewed; tests/test_migrations.py
checks that `verify_chain` accepts what it writes.

SQLite: a later migration that rebuilds audit_event with batch_alter_table (copy, drop,
rename) loses these triggers with the dropped table and must create them again;
tests/test_audit_chain.py fails at head if they are missing.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

import sqlalchemy as sa
from alembic import op

import models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
MESSAGE = "audit_event is append-only"
FIELDS = (
    "at",
    "actor_id",
    "actor_role",
    "actor_address",
    "subject_type",
    "subject_id",
    "subject_version",
    "action",
    "from_status",
    "to_status",
    "outcome",
    "detail",
)

audit_event = sa.table(
    "audit_event",
    sa.column("id", sa.Integer()),
    sa.column("at", models.base.UTCDateTime()),
    *(sa.column(name) for name in FIELDS[1:]),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)


def _row_hash(prev_hash: str, row: sa.Row) -> str:
    values = [
        row.at.astimezone(UTC).isoformat(timespec="microseconds"),
        *(getattr(row, name) for name in FIELDS[1:]),
    ]
    canonical = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    prev, after_id = GENESIS, 0
    while True:
        rows = conn.execute(
            sa.select(audit_event)
            .where(audit_event.c.id > after_id)
            .order_by(audit_event.c.id)
            .limit(1000)
        ).all()
        for row in rows:
            digest = _row_hash(prev, row)
            conn.execute(
                audit_event.update()
                .where(audit_event.c.id == row.id)
                .values(prev_hash=prev, row_hash=digest)
            )
            prev = digest
        if not rows:
            return
        after_id = rows[-1].id


def upgrade() -> None:
    _chain_existing_rows()
    if op.get_bind().dialect.name == "sqlite":
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{event.lower()} BEFORE {event} ON audit_event "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{MESSAGE} (% refused)', TG_OP; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_update_delete BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
    )


def downgrade() -> None:
    # The hashes stay: 0002's downgrade drops the columns.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update_delete ON audit_event")
    op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")

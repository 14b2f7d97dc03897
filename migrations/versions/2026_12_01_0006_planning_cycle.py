"""planning cycle: cycles, service plans, their signatories, versions and responses

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

New tables only: nothing existing changes, so a database holding live rows upgrades and
downgrades without touching them (tests/platform/test_migrations.py).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "planning_cycle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("opens_on", sa.Date(), nullable=False),
        sa.Column("objectives_by", sa.Date(), nullable=False),
        sa.Column("drafts_due", sa.Date(), nullable=False),
        sa.Column("signoff_by", sa.Date(), nullable=False),
        sa.Column("kicked_off_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pp4_recorded_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year"),
    )
    op.create_table(
        "service_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("service_area", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("owner_title", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("approved_version_id", sa.Integer(), nullable=True),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("rolled_from_id", sa.Integer(), nullable=True),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["planning_cycle.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rolled_from_id"],
            ["service_plan.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("cycle_id", "service_area"),
    )
    with op.batch_alter_table("service_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_plan_current_version_id"), ["current_version_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_service_plan_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_plan_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "plan_signatory",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("portfolio", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["service_plan.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "person_id", "portfolio"),
    )
    with op.batch_alter_table("plan_signatory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_signatory_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_plan_signatory_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("signatories", sa.JSON(), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=False),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["service_plan.id"],
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "number"),
    )
    with op.batch_alter_table("plan_version", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_version_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "plan_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("via_link", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["service_plan.id"],
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["plan_version.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("version_id", "person_id"),
    )
    with op.batch_alter_table("plan_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_response_plan_id"), ["plan_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_plan_response_version_id"), ["version_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("plan_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_response_version_id"))
        batch_op.drop_index(batch_op.f("ix_plan_response_plan_id"))

    op.drop_table("plan_response")
    with op.batch_alter_table("plan_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_version_plan_id"))

    op.drop_table("plan_version")
    with op.batch_alter_table("plan_signatory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_signatory_plan_id"))
        batch_op.drop_index(batch_op.f("ix_plan_signatory_person_id"))

    op.drop_table("plan_signatory")
    with op.batch_alter_table("service_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_plan_owner_id"))
        batch_op.drop_index(batch_op.f("ix_service_plan_cycle_id"))
        batch_op.drop_index(batch_op.f("ix_service_plan_current_version_id"))

    op.drop_table("service_plan")
    op.drop_table("planning_cycle")

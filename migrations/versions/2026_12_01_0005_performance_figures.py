"""performance figures: scorecards, measures, targets, figures and their revisions, returns

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

New tables only, plus `person.manager_id` (the line manager the chase of late figures copies
last), nullable so every person already registered keeps working. Runs on a database holding
live rows (tests/test_migrations.py).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scorecard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("portfolio", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("created_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "figure_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["officer_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("officer_id", "period"),
    )
    with op.batch_alter_table("figure_return", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_figure_return_officer_id"), ["officer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_figure_return_period"), ["period"], unique=False)

    op.create_table(
        "measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scorecard_id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("aim", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("approach", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("responsible_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("responsible_officer_id", sa.Integer(), nullable=True),
        sa.Column("data_source_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("data_source_officer_id", sa.Integer(), nullable=True),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("polarity", sa.String(length=10), nullable=False),
        sa.Column("year_end_target", sa.Float(), nullable=True),
        sa.Column("amber_tolerance", sa.Float(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["data_source_officer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["responsible_officer_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scorecard_id"],
            ["scorecard.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scorecard_id", "code"),
    )
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_measure_data_source_officer_id"),
            ["data_source_officer_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_measure_responsible_officer_id"),
            ["responsible_officer_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_measure_scorecard_id"), ["scorecard_id"], unique=False)

    op.create_table(
        "officer_alias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["confirmed_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "figure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("ytd_actual", sa.Float(), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("commentary", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column(
            "unavailable_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.Column("first_entered_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("entered_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("override_current", sa.String(length=10), nullable=True),
        sa.Column("override_projected", sa.String(length=10), nullable=True),
        sa.Column("override_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("override_by_id", sa.Integer(), nullable=True),
        sa.Column("override_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
        ),
        sa.ForeignKeyConstraint(
            ["override_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("measure_id", "period"),
    )
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_figure_measure_id"), ["measure_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_figure_period"), ["period"], unique=False)

    op.create_table(
        "measure_target",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("measure_id", sa.Integer(), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["measure_id"],
            ["measure.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("measure_id", "period"),
    )
    with op.batch_alter_table("measure_target", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_measure_target_measure_id"), ["measure_id"], unique=False
        )

    op.create_table(
        "figure_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("figure_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("actual", sa.Float(), nullable=True),
        sa.Column("ytd_actual", sa.Float(), nullable=True),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("commentary", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column(
            "unavailable_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["figure_id"],
            ["figure.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("figure_revision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_figure_revision_figure_id"), ["figure_id"], unique=False
        )

    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("manager_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_person_manager_id", "person", ["manager_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("fk_person_manager_id", type_="foreignkey")
        batch_op.drop_column("manager_id")

    with op.batch_alter_table("figure_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_revision_figure_id"))

    op.drop_table("figure_revision")
    with op.batch_alter_table("measure_target", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_target_measure_id"))

    op.drop_table("measure_target")
    with op.batch_alter_table("figure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_period"))
        batch_op.drop_index(batch_op.f("ix_figure_measure_id"))

    op.drop_table("figure")
    op.drop_table("officer_alias")
    with op.batch_alter_table("measure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_measure_scorecard_id"))
        batch_op.drop_index(batch_op.f("ix_measure_responsible_officer_id"))
        batch_op.drop_index(batch_op.f("ix_measure_data_source_officer_id"))

    op.drop_table("measure")
    with op.batch_alter_table("figure_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_figure_return_period"))
        batch_op.drop_index(batch_op.f("ix_figure_return_officer_id"))

    op.drop_table("figure_return")
    op.drop_table("scorecard")

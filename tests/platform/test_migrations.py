"""Migrations run on databases holding live rows, forwards and back, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Connection, create_engine, inspect, text

from core.migrate import downgrade, upgrade

LIVE_ROWS = [
    "INSERT INTO person (id, name, email, job_title, is_admin, active, created_at) VALUES "
    "(1, 'Paul Knight', 'paul.knight@scambs.example', 'PM', false, true, '2010-02-26 10:00:00'),"
    "(2, 'Steve Hampson', 'steve.hampson@scambs.example', 'Sponsor', false, true,"
    " '2010-02-26 10:00:00')",
    "INSERT INTO api_token (id, person_id, token_hash, label, created_at) VALUES "
    "(1, 1, 'abc', 'laptop', '2010-02-26 10:00:00')",
    "INSERT INTO project (id, code, name, objective, cost_tolerance_pence, reminder_working_days,"
    " sponsor_id, manager_id, rfc_counter, created_at) VALUES "
    "(1, 'CSE', 'Customer Service Excellence', '', 0, 5, 2, 1, 0, '2010-02-26 10:00:00')",
    "INSERT INTO audit_event (id, at, actor_id, actor_role, actor_address, subject_type,"
    " subject_id, subject_version, action, from_status, to_status, outcome, detail) VALUES "
    "(1, '2010-02-26 10:00:00', 1, 'admin', '', 'project', 1, 1, 'create', '', 'active', 'ok',"
    " ''),"
    "(2, '2010-02-26 10:05:00', 1, 'requester', '', 'rfc', 1, 1, 'create', '', 'draft', 'ok', '')",
]


@contextmanager
def _holding(url: str, revision: str) -> Iterator[Connection]:
    """A database migrated from nothing to `revision`, for the test to put its live rows in, in
    one transaction. The rows are given ids, so on PostgreSQL every table's id sequence is then
    moved past them, as the app's own inserts would have left it."""
    downgrade(url, "base")
    upgrade(url, revision)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
            if conn.dialect.name == "postgresql":
                schema = inspect(conn)
                for table in schema.get_table_names():
                    if "id" in {c["name"] for c in schema.get_columns(table)}:
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
                            )
                        )
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def test_security_migration_keeps_live_rows_and_goes_back(db_url, env):
    with _holding(db_url, "0001") as conn:
        for sql in LIVE_ROWS:
            conn.execute(text(sql))

    upgrade(db_url, "head")
    assert _rows(db_url, "SELECT code, open_to_all_officers FROM project") == [("CSE", False)]
    assert _rows(db_url, "SELECT label, expires_at, revoked_at FROM api_token") == [
        ("laptop", None, None)
    ]
    assert [r[0] for r in _rows(db_url, "SELECT action FROM audit_event ORDER BY id")] == [
        "create",
        "create",
    ]
    tables = inspect(create_engine(db_url)).get_table_names()
    assert "throttle" in tables

    downgrade(db_url, "0001")
    assert _rows(db_url, "SELECT count(*) FROM audit_event") == [(2,)]
    assert "throttle" not in inspect(create_engine(db_url)).get_table_names()
    upgrade(db_url, "head")  # and forwards again, as a redeploy would
    assert _rows(db_url, "SELECT count(*) FROM person") == [(2,)]


def test_append_only_migration_chains_live_rows_and_locks_the_table(db_url, env):
    """0003 on a database holding audit rows (more than one batch of them) with no hashes."""
    from sqlalchemy.exc import DBAPIError
    from sqlmodel import Session

    from services.platform.audit import GENESIS, verify_chain

    with _holding(db_url, "0002") as conn:
        for sql in LIVE_ROWS:
            conn.execute(text(sql))
        conn.execute(
            text(
                "INSERT INTO audit_event (id, at, actor_id, actor_role, actor_address,"
                " subject_type, subject_id, subject_version, action, from_status, to_status,"
                " outcome, detail)"
                " VALUES (:id, :at, NULL, 'system', '', 'rfc', 1, 1, 'remind', 'draft', 'draft',"
                " 'ok', :detail)"
            ),
            [
                {"id": i, "at": f"2010-03-01 09:{i % 60:02d}:00.{i:06d}", "detail": f"n°{i} ✓"}
                for i in range(3, 1004)
            ],
        )
    assert _rows(db_url, "SELECT count(*) FROM audit_event WHERE row_hash = ''") == [(1003,)]

    upgrade(db_url, "head")
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            result = verify_chain(session)
        assert (result.intact, result.events) == (True, 1003), result.problem
        assert _rows(db_url, "SELECT prev_hash FROM audit_event WHERE id = 1") == [(GENESIS,)]
        for sql in (
            "UPDATE audit_event SET detail = 'x' WHERE id = 2",
            "DELETE FROM audit_event WHERE id = 1003",
        ):
            with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(text(sql))
    finally:
        engine.dispose()

    downgrade(db_url, "0002")  # the triggers go; the rows stay
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET detail = 'edited before 0003' WHERE id = 2"))
    engine.dispose()
    upgrade(db_url, "head")  # chains again, over the edited row
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            assert verify_chain(session).intact
    finally:
        engine.dispose()


def test_platform_migration_keeps_an_rfcs_steps_links_and_queued_mail_working(
    db_url, env, smtp, client
):
    """0004 turns approval_task into step and rfc_id into subject columns on a database where
    an RFC waits for its sponsor: after the upgrade the queued emails go out (the reminder as a
    digest), the emailed link decides the RFC, and its step closes."""
    from datetime import UTC, datetime

    from support.factories import Factory, deliver

    from core import clock, tokens
    from models import ActionToken

    salt = tokens.new_salt()
    digest = tokens.hash_token(tokens.derive_token(salt))
    with _holding(db_url, "0003") as conn:
        for sql in LIVE_ROWS[:3]:
            conn.execute(text(sql))
        conn.execute(
            text(
                "INSERT INTO rfc (id, project_id, number, ref, title, description,"
                " expected_benefits, requester_id, raised_on, days_of_work, products_affected,"
                " cost_pence,"
                " extends_timescale, needs_extra_resources, recommendation, impact_by_id,"
                " impact_at, classification, approver_id, status, version, created_at,"
                " updated_at) VALUES "
                "(1, 1, 3, 'CSE-RFC-003', 'Extend stage 1', 'Combine tasks', 'A month', 1,"
                " '2010-02-26', 20, 'Plan', 0, true, false, 'Approve', 1, '2010-03-01 10:00:00',"
                " 'major', 2, 'awaiting_approval', 3, '2010-02-26 10:00:00', '2010-03-01 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO approval_task (id, rfc_id, rfc_version, kind, owner_id, created_at,"
                " due_on, reminded_at, reminder_count, escalated_at, closed_at, outcome) VALUES "
                "(7, 1, 3, 'impact_analysis', 1, '2010-02-26 10:00:00', '2010-03-05', NULL, 0,"
                " NULL, '2010-03-01 10:00:00', 'awaiting_approval'),"
                "(8, 1, 3, 'decision', 2, '2010-03-01 10:00:00', '2010-03-08',"
                " '2010-03-09 09:00:00', 1, NULL, NULL, NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO action_token (id, purpose, subject_type, subject_id, subject_version,"
                " person_id, salt, token_hash, created_at, expires_at) VALUES "
                "(5, 'approve_rfc', 'rfc', 1, 3, 2, :salt, :hash, '2010-03-09 09:00:00',"
                " '2010-03-23 09:00:00')"
            ),
            {"salt": salt, "hash": digest},
        )
        conn.execute(
            text(
                "INSERT INTO outbox_message (id, idempotency_key, template, to_person_id, context,"
                " rfc_id, expect_rfc_status, action_token_id, status, attempts, next_attempt_at,"
                " created_at) VALUES "
                "(1, 'rfc_reminder:task8:n1', 'rfc_reminder', 2,"
                ' \'{"kind": "decision", "number": 1, "due_text": "Monday 8 March 2010"}\','
                " 1, 'awaiting_approval', 5, 'queued', 0, '2010-03-09 09:00:00',"
                " '2010-03-09 09:00:00'),"
                "(2, 'rfc_submitted:rfc1:v2:p1', 'rfc_submitted', 1, '{}', 1, 'impact_analysis',"
                " NULL, 'queued', 0, '2010-02-26 10:00:00', '2010-02-26 10:00:00')"
            )
        )

    upgrade(db_url, "head")
    steps = [
        (*r[:6], str(r[6]), str(r[7]), r[8], bool(r[9]))
        for r in _rows(
            db_url,
            "SELECT id, subject_type, subject_id, subject_version, kind, owner_id, due_on,"
            " next_chase_on, reminder_count, closed_at IS NULL FROM step ORDER BY id",
        )
    ]
    # A step reminded on 9 March is next looked at 5 working days on (the project's interval).
    assert steps == [
        (7, "rfc", 1, 3, "impact_analysis", 1, "2010-03-05", "2010-03-05", 0, False),
        (8, "rfc", 1, 3, "decision", 2, "2010-03-08", "2010-03-16", 1, True),
    ]
    assert _rows(
        db_url,
        "SELECT id, template, subject_type, subject_id, expect_status"
        " FROM outbox_message ORDER BY id",
    ) == [
        (1, "chase_digest", None, None, None),  # a digest: its item says what it is about
        (2, "rfc_submitted", "rfc", 1, "impact_analysis"),
    ]

    with clock.frozen(datetime(2010, 3, 10, 9, tzinfo=UTC)):
        report = deliver()
    assert (report.sent, report.dropped) == (1, 1)  # the RFC has moved on from impact analysis
    (mail,) = smtp.messages
    assert mail.subject == "Reminder: CSE-RFC-003 is waiting for your decision"
    link = mail.link()
    assert link.endswith(Factory.raw_link(ActionToken(salt=salt)))
    with clock.frozen(datetime(2010, 3, 10, 10, tzinfo=UTC)):
        path = link.replace("http://testserver", "").split("://", 1)[-1]
        path = path[path.index("/approvals/") :]
        page = client.get(path)
        assert page.status_code == 200 and "CSE-RFC-003" in page.text
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        done = client.post(path, data={"decision": "approve", "reason": "", "csrf_token": csrf})
    assert done.status_code == 200, done.text
    assert _rows(db_url, "SELECT status FROM rfc") == [("approved",)]
    assert _rows(db_url, "SELECT outcome FROM step WHERE id = 8") == [("approved",)]

    downgrade(db_url, "0003")  # and back: the RFC's steps are approval tasks again
    assert _rows(db_url, "SELECT id, rfc_id, kind, outcome FROM approval_task ORDER BY id") == [
        (7, 1, "impact_analysis", "awaiting_approval"),
        (8, 1, "decision", "approved"),
    ]
    upgrade(db_url, "head")


def test_performance_migration_keeps_people_and_goes_back_with_figures_in(db_url, env):
    """0005 adds the performance tables and person.manager_id on a database holding people
    and an RFC; everyone stays, with no manager; back down again with a scorecard, a figure
    and a line manager recorded, the platform's rows are untouched."""
    with _holding(db_url, "0004") as conn:
        for sql in LIVE_ROWS[:3]:
            conn.execute(text(sql))
    upgrade(db_url, "0005")
    assert _rows(db_url, "SELECT id, name, manager_id FROM person ORDER BY id") == [
        (1, "Paul Knight", None),
        (2, "Steve Hampson", None),
    ]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE person SET manager_id = 2 WHERE id = 1"))
        conn.execute(
            text(
                "INSERT INTO scorecard (id, code, name, year, portfolio, created_at) VALUES "
                "(1, 'CCS-0910', 'Community and Customer Services 09/10', 2009, '', "
                "'2010-01-04 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO measure (id, scorecard_id, code, name, aim, approach, frequency,"
                " responsible_name, data_source_name, data_source_officer_id, unit, polarity,"
                " active, updated_at) VALUES (1, 1, 'PP18', 'CorVu', 'Policy', '', 'quarterly',"
                " '', 'Paul Knight', 1, 'percentage', 'higher', true, '2010-01-04 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO figure (id, measure_id, period, state, actual, commentary,"
                " unavailable_reason, first_entered_at, entered_at, version, override_reason)"
                " VALUES (1, 1, '2009-12', 'entered', 75, '', '', '2010-01-12 10:00:00',"
                " '2010-01-12 10:00:00', 1, '')"
            )
        )
    engine.dispose()
    downgrade(db_url, "0004")
    assert "scorecard" not in inspect(create_engine(db_url)).get_table_names()
    assert _rows(db_url, "SELECT id, name FROM person ORDER BY id") == [
        (1, "Paul Knight"),
        (2, "Steve Hampson"),
    ]
    assert _rows(db_url, "SELECT code FROM project") == [("CSE",)]
    upgrade(db_url, "head")


def test_planning_migration_adds_its_tables_beside_live_rows_and_goes_back(db_url, env):
    """0006 adds the planning tables on a database holding people, an RFC and a scorecard;
    nothing existing changes. Back down with a cycle, a plan, a version and a signature in,
    every other row stays."""
    with _holding(db_url, "0005") as conn:
        for sql in LIVE_ROWS[:3]:
            conn.execute(text(sql))
    before = _rows(db_url, "SELECT id, name, email FROM person ORDER BY id")
    upgrade(db_url, "0006")
    assert _rows(db_url, "SELECT id, name, email FROM person ORDER BY id") == before
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO planning_cycle (id, year, opens_on, objectives_by, drafts_due,"
                " signoff_by, created_at, version) VALUES (1, 2010, '2009-06-01', '2009-07-31',"
                " '2009-11-30', '2010-03-31', '2009-06-01 09:00:00', 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO service_plan (id, cycle_id, service_area, owner_id, owner_title,"
                " status, version, content, created_at, updated_at) VALUES (1, 1,"
                " 'Community and Customer Services', 2, 'Corporate Manager', 'submitted', 3,"
                " '{}', '2009-06-01 09:00:00', '2010-02-01 09:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO plan_signatory (id, plan_id, person_id, role, portfolio, position)"
                " VALUES (1, 1, 1, 'portfolio_holder', 'Partnerships', 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO plan_version (id, plan_id, number, content, signatories,"
                " submitted_by_id, submitted_at, note) VALUES (1, 1, 1, '{}', '[]', 2,"
                " '2010-02-01 09:00:00', '')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO plan_response (id, plan_id, version_id, person_id, kind, comment,"
                " at, via_link) VALUES (1, 1, 1, 1, 'signed', '', '2010-02-02 09:00:00', true)"
            )
        )
    engine.dispose()
    downgrade(db_url, "0005")
    assert "service_plan" not in inspect(create_engine(db_url)).get_table_names()
    assert _rows(db_url, "SELECT id, name, email FROM person ORDER BY id") == before
    assert _rows(db_url, "SELECT code FROM project") == [("CSE",)]
    upgrade(db_url, "head")


def test_link_subject_index_migration_keeps_live_links_and_the_revoke_uses_it(db_url, env):
    """0007 indexes action_token by subject: revoking a subject's live links (every decision,
    edit and withdrawal) no longer reads the whole table. Live links stay as they were."""
    with _holding(db_url, "0006") as conn:
        for sql in LIVE_ROWS[:1]:
            conn.execute(text(sql))
        conn.execute(
            text(
                "INSERT INTO action_token (id, purpose, subject_type, subject_id,"
                " subject_version, person_id, salt, token_hash, created_at, expires_at) VALUES"
                " (1, 'approve_rfc', 'rfc', 1, 2, 2, 's1', 'h1', '2010-03-01 09:00:00',"
                " '2010-03-15 09:00:00'),"
                " (2, 'sign_in', 'person', 1, 1, 1, 's2', 'h2', '2010-03-01 09:00:00',"
                " '2010-03-01 09:15:00')"
            )
        )
    links = "SELECT id, purpose, subject_type, subject_id, token_hash FROM action_token ORDER BY id"
    before = _rows(db_url, links)

    upgrade(db_url, "0007")
    assert _rows(db_url, links) == before
    indexes = {i["name"]: i["column_names"] for i in _indexes(db_url, "action_token")}
    assert indexes["ix_action_token_subject"] == ["subject_type", "subject_id"]
    if db_url.startswith("sqlite"):
        plan = _rows(
            db_url,
            "EXPLAIN QUERY PLAN UPDATE action_token SET revoked_at = '2010-03-02 09:00:00'"
            " WHERE purpose = 'approve_rfc' AND subject_type = 'rfc' AND subject_id = 1"
            " AND used_at IS NULL AND revoked_at IS NULL",
        )
        assert "USING INDEX ix_action_token_subject" in plan[0][-1]

    downgrade(db_url, "0006")
    assert "ix_action_token_subject" not in {i["name"] for i in _indexes(db_url, "action_token")}
    assert _rows(db_url, links) == before
    upgrade(db_url, "head")


def test_fewer_write_indexes_migration_keeps_live_rows_and_the_chase_and_outbox_work(
    db_url, env, smtp
):
    """0008 drops four indexes that every action wrote and no query read (rfc.status,
    outbox_message.next_attempt_at and claim_id, step.next_chase_on). On a database where an
    RFC waits past its due date with mail queued and sent, the rows stay as they were, the
    chase still reminds the sponsor and the deliverer still sends, and going back restores
    the indexes."""
    from datetime import UTC, datetime

    from support.factories import deliver

    from core import clock
    from core.db import write_session
    from services.platform.chasing import run as chase

    with _holding(db_url, "0007") as conn:
        for sql in LIVE_ROWS[:3]:
            conn.execute(text(sql))
        conn.execute(
            text(
                "INSERT INTO rfc (id, project_id, number, ref, title, description,"
                " expected_benefits, requester_id, raised_on, classification, approver_id,"
                " status, version, created_at, updated_at) VALUES "
                "(1, 1, 3, 'CSE-RFC-003', 'Extend stage 1', 'Combine tasks', 'A month', 1,"
                " '2010-02-26', 'major', 2, 'awaiting_approval', 3, '2010-02-26 10:00:00',"
                " '2010-03-01 10:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO step (id, subject_type, subject_id, subject_version, kind, owner_id,"
                " opened_at, due_on, next_chase_on, reminder_count, closed_at, outcome) VALUES "
                "(7, 'rfc', 1, 3, 'impact_analysis', 1, '2010-02-26 10:00:00', '2010-03-05',"
                " '2010-03-05', 0, '2010-03-01 10:00:00', 'awaiting_approval'),"
                "(8, 'rfc', 1, 3, 'decision', 2, '2010-03-01 10:00:00', '2010-03-08',"
                " '2010-03-08', 0, NULL, NULL)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO outbox_message (id, idempotency_key, template, to_person_id, context,"
                " subject_type, subject_id, expect_status, status, attempts, next_attempt_at,"
                " claim_id, message_id, created_at, sent_at) VALUES "
                "(1, 'rfc_submitted:rfc1:v2:p1', 'rfc_submitted', 1, '{}', 'rfc', 1,"
                " 'impact_analysis', 'sent', 0, '2010-02-26 10:00:00', NULL, '<m1@signoff>',"
                " '2010-02-26 10:00:00', '2010-02-26 10:00:05'),"
                "(2, 'rfc_submitted:rfc1:v3:p1', 'rfc_submitted', 1, '{}', 'rfc', 1,"
                " 'awaiting_approval', 'queued', 1, '2010-03-09 08:00:00', NULL, NULL,"
                " '2010-03-01 10:00:00', NULL)"
            )
        )
    tables = {
        "rfc": "SELECT id, ref, status, version FROM rfc ORDER BY id",
        "step": "SELECT id, kind, owner_id, next_chase_on, closed_at IS NULL FROM step ORDER BY id",
        "outbox_message": "SELECT id, template, status, attempts, next_attempt_at, message_id"
        " FROM outbox_message ORDER BY id",
    }
    before = {t: _rows(db_url, sql) for t, sql in tables.items()}
    dropped = {
        "rfc": {"ix_rfc_status"},
        "step": {"ix_step_next_chase_on"},
        "outbox_message": {"ix_outbox_message_next_attempt_at", "ix_outbox_message_claim_id"},
    }

    upgrade(db_url, "0008")
    assert {t: _rows(db_url, sql) for t, sql in tables.items()} == before
    for table, names in dropped.items():
        assert not names & {i["name"] for i in _indexes(db_url, table)}
    if db_url.startswith("sqlite"):  # the due test and the claim still read through an index
        due = _rows(
            db_url,
            "EXPLAIN QUERY PLAN SELECT id FROM step WHERE closed_at IS NULL"
            " AND escalated_at IS NULL AND next_chase_on < '2010-03-10' ORDER BY id",
        )
        assert "USING INDEX ix_step_closed_at" in due[0][-1]
        claim = _rows(
            db_url,
            "EXPLAIN QUERY PLAN SELECT id FROM outbox_message WHERE (status = 'queued' AND"
            " next_attempt_at <= '2010-03-10') OR (status = 'sending' AND claimed_until <"
            " '2010-03-10') ORDER BY id LIMIT 50",
        )
        searches = [r[-1] for r in claim if r[-1].startswith(("SEARCH", "SCAN"))]
        assert searches and all("USING INDEX ix_outbox_message_status" in s for s in searches)

    with clock.frozen(datetime(2010, 3, 10, 9, tzinfo=UTC)):
        with write_session() as session:
            report = chase(session)
        assert [(s.ref, s.action) for s in report.steps] == [("CSE-RFC-003", "reminded")]
        sent = deliver()
    assert sent.sent == 2  # the queued email and the sponsor's reminder
    assert sorted(m.subject for m in smtp.messages)[-1].startswith("Reminder")
    reminded = "SELECT reminder_count, next_chase_on > due_on FROM step WHERE id = 8"
    assert _rows(db_url, reminded) == [(1, True)]

    downgrade(db_url, "0007")
    for table, names in dropped.items():
        assert names <= {i["name"] for i in _indexes(db_url, table)}
    assert _rows(db_url, "SELECT id, status FROM outbox_message ORDER BY id") == [
        (1, "sent"),
        (2, "sent"),
        (3, "sent"),
    ]
    upgrade(db_url, "head")


def test_the_migrations_make_exactly_the_tables_the_models_declare(db_url, env):
    """A schema change in a model without its migration (or the other way round) fails here:
    Alembic compares the migrated database with every domain's tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from models.all_tables import metadata

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()


def _indexes(url: str, table: str) -> list:
    engine = create_engine(url)
    try:
        return inspect(engine).get_indexes(table)
    finally:
        engine.dispose()

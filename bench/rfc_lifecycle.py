"""Complete RFC lifecycles per second: Signoff's services vs SpiffWorkflow vs raw sqlite3.

A lifecycle is create, submit, impact analysis (a minor change, so the PM decides), decision:
four steps, each its own write transaction, as the API does them (one call = one transaction).

- signoff: services.change_control.rfcs on a fresh migrated SQLite file: state, audit events,
  approval tasks, token revocations and outbox rows, through SQLModel/SQLAlchemy.
- spiffworkflow: SpiffWorkflow 3 runs bench/rfc_lifecycle.bpmn; user tasks are completed with
  the same data; after every step the workflow is serialized (BpmnWorkflowSerializer) and saved
  to an SQLite table, one transaction per step. The instance stays in memory between steps,
  as specified. `spiffworkflow_reload` additionally loads and deserializes the state at each
  step, as a stateless web worker would (reported, not part of the goal).
- raw_sqlite3: hand-written sqlite3 statements making the same rows as Signoff (same
  migrated schema, same pragmas, each audit row chained to the last by its SHA-256 as Signoff
  chains it): the reference floor of the ORM's cost. `raw_sqlite3_unchained` leaves the chain
  out, as the baseline did before the chain existed (information only).

The contenders run in rounds, in rotating order, so a noisy neighbour hurts them all alike.
Prints one JSON object to stdout. Goals (issue 10): signoff >= 1x spiffworkflow and >= 0.3x
raw_sqlite3; also reported: how much faster Signoff would need to be for 0.5x raw_sqlite3.

    uv run python bench/rfc_lifecycle.py [--quick] [--n N] [--rounds R] [--profile]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from _common import (
    PROJECT,
    ROOT,
    connect_like_signoff,
    copy_database,
    release_database,
    seed_project,
    use_database,
)

STEPS = ("create", "submit", "impact", "decide")
GOAL_VS_SPIFF = 1.0  # issue 10: Signoff at least as fast as SpiffWorkflow in memory
GOAL_VS_RAW = 0.3  # and at least 0.3x hand-written sqlite3 on the same rows
GENESIS = "0" * 64  # services.platform.audit.GENESIS, the first row's prev_hash
TABLES = ("rfc", "audit_event", "step", "outbox_message", "action_token")

TITLE = "Merge the two consultation stages"
DESCRIPTION = "Run the statutory and informal consultations together to save four weeks."
IMPACT = dict(
    days_of_work=1.0,
    products_affected="Consultation plan",
    cost_pence=0,
    extends_timescale=False,
    needs_extra_resources=False,
    recommendation="Accommodate within the current stage.",
)


class Contender:
    """One way of running lifecycles; `lifecycle(i)` adds each step's seconds to `step_s`."""

    name = ""

    def __init__(self) -> None:
        self.step_s = dict.fromkeys(STEPS, 0.0)
        self.done = 0
        self.elapsed = 0.0
        self.rounds: list[float] = []

    def lifecycle(self, i: int) -> None:
        raise NotImplementedError

    def run(self, first: int, count: int) -> None:
        start = time.perf_counter()
        for i in range(first, first + count):
            self.lifecycle(i)
        took = time.perf_counter() - start
        self.done += count
        self.elapsed += took
        self.rounds.append(count / took)

    def reset(self) -> None:
        self.step_s = dict.fromkeys(STEPS, 0.0)


# --- Signoff through its services --------------------------------------------------------


class Signoff(Contender):
    name = "signoff"

    def __init__(self, path: Path) -> None:
        super().__init__()
        use_database(path, migrate=False)
        from core.db import write_session
        from models.change_control.rfcs import DecisionInput, ImpactInput, RfcCreate
        from services.change_control import rfcs
        from services.platform.actors import Actor

        self.write_session, self.rfcs = write_session, rfcs
        self.RfcCreate, self.ImpactInput, self.DecisionInput = RfcCreate, ImpactInput, DecisionInput
        ids = person_ids(path)
        self.requester = Actor(person_id=ids["requester"])
        self.pm = Actor(person_id=ids["pm"])

    def lifecycle(self, i: int) -> None:
        rfcs, write_session, t = self.rfcs, self.write_session, time.perf_counter
        t0 = t()
        with write_session() as s:
            rfc_id = rfcs.create_rfc(
                s,
                actor=self.requester,
                project_code=PROJECT,
                data=self.RfcCreate(title=f"{TITLE} ({i})", description=DESCRIPTION),
            ).id
        t1 = t()
        with write_session() as s:
            rfcs.submit_rfc(s, actor=self.requester, rfc_id=rfc_id)
        t2 = t()
        with write_session() as s:
            rfcs.record_impact(s, actor=self.pm, rfc_id=rfc_id, data=self.ImpactInput(**IMPACT))
        t3 = t()
        with write_session() as s:
            rfc = rfcs.decide(
                s,
                actor=self.pm,
                rfc_id=rfc_id,
                data=self.DecisionInput(decision="approve", reason=""),
            )
            assert rfc.status == "approved"
        t4 = t()
        for step, took in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            self.step_s[step] += took

    def statements_per_step(self, first: int, count: int) -> dict[str, float]:
        """SQL statements per step, BEGIN and COMMIT included, counted on untimed lifecycles:
        what SQLite itself was asked to run (its trace callback on each connection as it is
        checked out), whichever way they were sent (SQLAlchemy or the driver's cursor)."""
        from sqlalchemy import event

        from core.db import get_engine

        engine = get_engine()
        per_transaction: list[int] = []
        current = [0]

        def traced(statement: str) -> None:
            current[0] += 1
            if statement.lstrip().upper().startswith("COMMIT"):
                per_transaction.append(current[0])
                current[0] = 0

        def trace(dbapi_conn: sqlite3.Connection, *_args: object) -> None:
            dbapi_conn.set_trace_callback(traced)

        def untrace(dbapi_conn: sqlite3.Connection, *_args: object) -> None:
            dbapi_conn.set_trace_callback(None)

        event.listen(engine, "checkout", trace)
        event.listen(engine, "checkin", untrace)
        try:
            for i in range(first, first + count):
                self.lifecycle(i)
        finally:
            event.remove(engine, "checkout", trace)
            event.remove(engine, "checkin", untrace)
        assert len(per_transaction) == 4 * count, per_transaction
        return {step: sum(per_transaction[k::4]) / count for k, step in enumerate(STEPS)}


# --- SpiffWorkflow ---------------------------------------------------------------------


class Spiff(Contender):
    """The BPMN model in memory; state serialized and saved after every step."""

    name = "spiffworkflow"

    def __init__(self, path: Path) -> None:
        super().__init__()
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_file(str(ROOT / "bench" / "rfc_lifecycle.bpmn"))
        self.spec = parser.get_spec("rfc_lifecycle")
        self.serializer = BpmnWorkflowSerializer()
        self.BpmnWorkflow, self.READY = BpmnWorkflow, TaskState.READY
        self.db = connect_like_signoff(path)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS workflow (id INTEGER PRIMARY KEY, "
            "state TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )

    def step_data(self, i: int) -> list[tuple[str, dict]]:
        """(user task, data its form completes it with), in lifecycle order."""
        return [
            (
                "submit",
                {
                    "title": f"{TITLE} ({i})",
                    "description": DESCRIPTION,
                    "requester_id": 2,
                    "cost_tolerance_pence": 0,
                },
            ),
            ("impact_analysis", {**IMPACT, "impact_by_id": 3}),
            ("pm_decision", {"decision": "approve", "reason": "", "decided_by_id": 3}),
        ]

    def save(self, workflow: object, wid: int | None) -> int:
        state = self.serializer.serialize_json(workflow)
        now = datetime.now(UTC).isoformat()
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        if wid is None:
            wid = db.execute(
                "INSERT INTO workflow (state, updated_at) VALUES (?, ?)", (state, now)
            ).lastrowid
        else:
            db.execute(
                "UPDATE workflow SET state = ?, updated_at = ? WHERE id = ?", (state, now, wid)
            )
        db.execute("COMMIT")
        assert wid is not None
        return wid

    def complete(self, workflow, name: str, data: dict) -> None:  # type: ignore[no-untyped-def]
        task = workflow.get_next_task(state=self.READY, manual=True)
        assert task is not None and task.task_spec.name == name, (task, name)
        task.data.update(data)
        task.run()
        workflow.do_engine_steps()

    def lifecycle(self, i: int) -> None:
        t = time.perf_counter
        t0 = t()
        workflow = self.BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        wid = self.save(workflow, None)
        marks = [t0, t()]
        for name, data in self.step_data(i):
            self.complete(workflow, name, data)
            self.save(workflow, wid)
            marks.append(t())
        assert workflow.is_completed()
        for step, (a, b) in zip(STEPS, zip(marks, marks[1:], strict=False), strict=True):
            self.step_s[step] += b - a

    def completed_instances(self) -> int:
        """Deserialize every saved state and count the completed workflows (untimed check)."""
        rows = self.db.execute("SELECT state FROM workflow").fetchall()
        return sum(self.serializer.deserialize_json(state).is_completed() for (state,) in rows)


class SpiffReload(Spiff):
    """As Spiff, but each step loads and deserializes the saved state in its transaction."""

    name = "spiffworkflow_reload"

    def lifecycle(self, i: int) -> None:
        t, db = time.perf_counter, self.db
        t0 = t()
        workflow = self.BpmnWorkflow(self.spec)
        workflow.do_engine_steps()
        wid = self.save(workflow, None)
        marks = [t0, t()]
        for name, data in self.step_data(i):
            db.execute("BEGIN IMMEDIATE")
            (state,) = db.execute("SELECT state FROM workflow WHERE id = ?", (wid,)).fetchone()
            workflow = self.serializer.deserialize_json(state)
            self.complete(workflow, name, data)
            db.execute(
                "UPDATE workflow SET state = ?, updated_at = ? WHERE id = ?",
                (self.serializer.serialize_json(workflow), datetime.now(UTC).isoformat(), wid),
            )
            db.execute("COMMIT")
            marks.append(t())
        assert workflow.is_completed()
        for step, (a, b) in zip(STEPS, zip(marks, marks[1:], strict=False), strict=True):
            self.step_s[step] += b - a


# --- raw sqlite3 -----------------------------------------------------------------------


def _ts(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite."""
    return moment.replace(tzinfo=None).isoformat(" ")


class RawSqlite(Contender):
    """The rows Signoff writes, by hand: same schema, same checks, no ORM. Each audit row is
    chained as Signoff chains it (the last row's hash read, SHA-256 of it and the row's fields):
    the same rows, hashes included, which `verify_chain` checks afterwards."""

    name = "raw_sqlite3"
    chained = True

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.moment = datetime.now(UTC)
        self.db = connect_like_signoff(path)
        self.ids = person_ids(path)
        from core import clock

        today = clock.today()
        self.today = today.isoformat()
        self.due_on = clock.add_working_days(today, 5).isoformat()
        self.statements = 0

    def ex(self, sql: str, args: tuple = ()) -> sqlite3.Cursor:
        self.statements += 1
        return self.db.execute(sql, args)

    def load(self, rfc_id: int) -> tuple:
        return self.ex(
            "SELECT r.status, r.version, r.requester_id, r.approver_id, p.manager_id, "
            "p.sponsor_id, p.cost_tolerance_pence FROM rfc r JOIN project p ON p.id = r.project_id "
            "WHERE r.id = ?",
            (rfc_id,),
        ).fetchone()

    def move(
        self,
        rfc_id: int,
        frm: str,
        to: str,
        version: int,
        action: str,
        role: str,
        actor: int,
        now: str,
        sets: str = "",
        values: tuple = (),
        detail: str = "",
    ) -> None:
        cur = self.ex(
            f"UPDATE rfc SET {sets}status = ?, version = ?, updated_at = ? "  # noqa: S608
            "WHERE id = ? AND status = ? AND version = ?",
            (*values, to, version + 1, now, rfc_id, frm, version),
        )
        if cur.rowcount != 1:
            raise RuntimeError("conflict")
        self.audit(now, actor, role, rfc_id, version + 1, action, frm, to, detail)

    def audit(
        self,
        now: str,
        actor: int,
        role: str,
        rfc_id: int,
        version: int,
        action: str,
        frm: str,
        to: str,
        detail: str = "",
    ) -> None:
        prev, digest = "", ""
        if self.chained:
            last = self.ex("SELECT row_hash FROM audit_event ORDER BY id DESC LIMIT 1").fetchone()
            prev = last[0] if last else GENESIS
            at = self.moment.isoformat(timespec="microseconds")
            fields = [at, actor, role, "", "rfc", rfc_id, version, action, frm, to, "ok", detail]
            canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
            digest = hashlib.sha256((prev + canonical).encode("utf-8")).hexdigest()
        self.ex(
            "INSERT INTO audit_event (at, actor_id, actor_role, actor_address, subject_type, "
            "subject_id, subject_version, action, from_status, to_status, outcome, detail, "
            "prev_hash, row_hash) VALUES (?, ?, ?, '', 'rfc', ?, ?, ?, ?, ?, 'ok', ?, ?, ?)",
            (now, actor, role, rfc_id, version, action, frm, to, detail, prev, digest),
        )

    def close_tasks(self, rfc_id: int, now: str, outcome: str) -> None:
        self.ex(
            "UPDATE step SET closed_at = ?, outcome = ? WHERE subject_type = 'rfc' "
            "AND subject_id = ? AND closed_at IS NULL",
            (now, outcome, rfc_id),
        )

    def open_task(self, rfc_id: int, version: int, kind: str, owner: int, now: str) -> None:
        self.close_tasks(rfc_id, now, "superseded")
        self.ex(
            "INSERT INTO step (subject_type, subject_id, subject_version, kind, owner_id, "
            "opened_at, due_on, next_chase_on, reminder_count) "
            "VALUES ('rfc', ?, ?, ?, ?, ?, ?, ?, 0)",
            (rfc_id, version, kind, owner, now, self.due_on, self.due_on),
        )

    def revoke_links(self, rfc_id: int, now: str) -> None:
        self.ex(
            "UPDATE action_token SET revoked_at = ? WHERE purpose = 'approve_rfc' AND "
            "subject_type = 'rfc' AND subject_id = ? AND used_at IS NULL AND "
            "revoked_at IS NULL",
            (now, rfc_id),
        )

    def notify(
        self,
        rfc_id: int,
        version: int,
        template: str,
        people: list[int],
        now: str,
        expect: str | None = None,
    ) -> None:
        for person in dict.fromkeys(people):
            self.ex(
                "INSERT INTO outbox_message (idempotency_key, template, to_person_id, "
                "context, subject_type, subject_id, expect_status, status, attempts, "
                "next_attempt_at, created_at) VALUES (?, ?, ?, '{}', 'rfc', ?, ?, 'queued', 0, "
                "?, ?) "
                "ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    f"{template}:rfc{rfc_id}:v{version}:p{person}",
                    template,
                    person,
                    rfc_id,
                    expect,
                    now,
                    now,
                ),
            )

    def lifecycle(self, i: int) -> None:
        t, ex, ids = time.perf_counter, self.ex, self.ids
        requester, pm = ids["requester"], ids["pm"]
        t0 = t()
        self.moment = datetime.now(UTC)
        now = _ts(self.moment)
        ex("BEGIN IMMEDIATE")
        project_id, number = ex(
            "UPDATE project SET rfc_counter = rfc_counter + 1 WHERE code = ? "
            "RETURNING id, rfc_counter",
            (PROJECT,),
        ).fetchone()
        rfc_id = ex(
            "INSERT INTO rfc (project_id, number, ref, title, description, "
            "expected_benefits, requester_id, raised_on, status, version, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, '', ?, ?, 'draft', 1, ?, ?)",
            (
                project_id,
                number,
                f"{PROJECT}-RFC-{number:03d}",
                f"{TITLE} ({i})",
                DESCRIPTION,
                requester,
                self.today,
                now,
                now,
            ),
        ).lastrowid
        self.audit(now, requester, "requester", rfc_id, 1, "create", "", "draft")
        ex("COMMIT")
        t1 = t()
        self.moment = datetime.now(UTC)
        now = _ts(self.moment)
        ex("BEGIN IMMEDIATE")
        status, version, req, _, manager, _, _ = self.load(rfc_id)
        assert status == "draft" and req == requester
        self.move(
            rfc_id, "draft", "impact_analysis", version, "submit", "requester", requester, now
        )
        self.open_task(rfc_id, version + 1, "impact_analysis", manager, now)
        self.notify(rfc_id, version + 1, "rfc_submitted", [manager], now, "impact_analysis")
        ex("COMMIT")
        t2 = t()
        self.moment = datetime.now(UTC)
        now = _ts(self.moment)
        ex("BEGIN IMMEDIATE")
        status, version, _, _, manager, sponsor, tolerance = self.load(rfc_id)
        assert status == "impact_analysis" and manager == pm
        major = (
            IMPACT["extends_timescale"]
            or IMPACT["needs_extra_resources"]
            or IMPACT["cost_pence"] > tolerance
        )
        approver = sponsor if major else manager
        self.move(
            rfc_id,
            "impact_analysis",
            "awaiting_approval",
            version,
            "record_impact",
            "manager",
            pm,
            now,
            "days_of_work = ?, products_affected = ?, cost_pence = ?, extends_timescale = ?, "
            "needs_extra_resources = ?, recommendation = ?, classification = ?, "
            "approver_id = ?, impact_by_id = ?, impact_at = ?, ",
            (*IMPACT.values(), "major" if major else "minor", approver, pm, now),
            "classified major" if major else "classified minor",
        )
        self.revoke_links(rfc_id, now)
        self.open_task(rfc_id, version + 1, "decision", approver, now)
        ex("COMMIT")
        t3 = t()
        self.moment = datetime.now(UTC)
        now = _ts(self.moment)
        ex("BEGIN IMMEDIATE")
        status, version, req, approver, manager, sponsor, _ = self.load(rfc_id)
        assert status == "awaiting_approval" and approver == pm
        self.move(
            rfc_id,
            "awaiting_approval",
            "approved",
            version,
            "approve",
            "approver",
            pm,
            now,
            "decided_by_id = ?, decided_at = ?, decision_reason = ?, ",
            (pm, now, ""),
            "via app",
        )
        self.close_tasks(rfc_id, now, "approved")
        self.revoke_links(rfc_id, now)
        self.notify(rfc_id, version + 1, "rfc_decided", [req, manager, sponsor, approver], now)
        ex("COMMIT")
        t4 = t()
        for step, took in zip(STEPS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            self.step_s[step] += took


class RawSqliteUnchained(RawSqlite):
    """raw_sqlite3 without the audit chain (empty hashes, no read of the last one): what the
    baseline was before the chain existed (information, not in the goals)."""

    name = "raw_sqlite3_unchained"
    chained = False


# --- the run ---------------------------------------------------------------------------


def person_ids(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        return {
            email.split("@")[0]: pid for pid, email in db.execute("SELECT id, email FROM person")
        }
    finally:
        db.close()


def rows(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608
        counts["rfc_approved"] = db.execute(
            "SELECT count(*) FROM rfc WHERE status = 'approved'"
        ).fetchone()[0]
        return counts
    finally:
        db.close()


def chain_intact(path: Path) -> bool:
    """The file's audit trail verifies as Signoff verifies it (services.platform.audit)."""
    use_database(path, migrate=False)
    from core.db import read_session
    from services.platform.audit import verify_chain

    with read_session() as session:
        intact = verify_chain(session).intact
    release_database()
    return intact


def profile(signoff: Signoff, first: int, count: int) -> None:
    """cProfile some extra (untimed) Signoff lifecycles; the hot spots go to stderr."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    signoff.run(first, count)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    print(f"\n=== cProfile of {count} Signoff lifecycles, by own time ===", file=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)
    print("=== by cumulative time, Signoff code only ===", file=sys.stderr)
    stats.sort_stats("cumulative").print_stats(f"{ROOT}/(services|core|models)/", 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--n", type=int, default=None, help="measured lifecycles per contender")
    parser.add_argument("--rounds", type=int, default=None, help="rounds, in rotating order")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile Signoff lifecycles and print the top to stderr",
    )
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    n = args.n or (30 if args.quick else 1500)
    per_round = max(1, n // rounds)
    n = per_round * rounds
    warm_up = 3 if args.quick else 20
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        folder = Path(tmp)
        template = folder / "template.db"
        use_database(template)
        seed_project()
        release_database()
        for name in ("signoff.db", "raw.db", "raw_unchained.db"):
            copy_database(template, folder / name)

        contenders: list[Contender] = [
            Signoff(folder / "signoff.db"),
            Spiff(folder / "spiff.db"),
            SpiffReload(folder / "spiff_reload.db"),
            RawSqlite(folder / "raw.db"),
            RawSqliteUnchained(folder / "raw_unchained.db"),
        ]
        for c in contenders:  # first calls import and compile lazily: not what we measure
            c.run(-warm_up, warm_up)
            c.done, c.elapsed, c.rounds = 0, 0.0, []
            c.reset()
        for r in range(rounds):
            shift = r % len(contenders)
            for c in contenders[shift:] + contenders[:shift]:
                c.run(r * per_round, per_round)

        measured = {
            c.name: (
                c.done / c.elapsed,
                list(c.rounds),
                {s: c.step_s[s] / c.done * 1000 for s in STEPS},
            )
            for c in contenders
        }
        # Everything below is untimed: statement counts, the profile, the checks.
        signoff, spiff, _, raw, _ = contenders
        assert isinstance(signoff, Signoff) and isinstance(spiff, Spiff)
        assert isinstance(raw, RawSqlite)
        extra = 5  # untimed lifecycles that count the SQL statements
        statements = signoff.statements_per_step(n, extra)
        raw_before = raw.statements
        raw.run(n, extra)
        raw_statements = (raw.statements - raw_before) / extra
        profiled = min(n, 300) if args.profile else 0
        if profiled:
            profile(signoff, n + extra, profiled)
        release_database()
        seeded = rows(template)
        made = {
            name: {t: count - seeded[t] for t, count in rows(folder / f"{name}.db").items()}
            for name in ("signoff", "raw")
        }
        lifecycles = {"signoff": warm_up + n + extra + profiled, "raw": warm_up + n + extra}
        per_lifecycle = {
            name: {t: round(made[name][t] / lifecycles[name], 3) for t in TABLES} for name in made
        }
        checks = {
            "signoff_rfcs_approved": made["signoff"]["rfc_approved"] == lifecycles["signoff"],
            "raw_sqlite3_rfcs_approved": made["raw"]["rfc_approved"] == lifecycles["raw"],
            "raw_sqlite3_writes_the_same_rows": per_lifecycle["signoff"] == per_lifecycle["raw"],
            "spiffworkflow_instances_completed": spiff.completed_instances() == warm_up + n,
            "signoff_audit_chain_intact": chain_intact(folder / "signoff.db"),
            "raw_sqlite3_audit_chain_intact": chain_intact(folder / "raw.db"),
        }

    rates = {name: rate for name, (rate, _, _) in measured.items()}
    vs_spiff = rates["signoff"] / rates["spiffworkflow"]
    vs_raw = rates["signoff"] / rates["raw_sqlite3"]
    result = {
        "benchmark": "rfc_lifecycle",
        "lifecycles_per_contender": n,
        "rounds": rounds,
        "warm_up_lifecycles": warm_up,
        "lifecycles_per_s": {name: round(rate, 1) for name, rate in rates.items()},
        "lifecycles_per_s_by_round": {
            name: [round(x, 1) for x in by_round] for name, (_, by_round, _) in measured.items()
        },
        "ms_per_step": {
            name: {s: round(ms, 3) for s, ms in steps.items()}
            for name, (_, _, steps) in measured.items()
        },
        "sql_statements": {
            "signoff_per_step": statements,
            "signoff_per_lifecycle": sum(statements.values()),
            "raw_sqlite3_per_lifecycle": raw_statements,
        },
        "rows_per_lifecycle": per_lifecycle["signoff"],
        "ratios": {
            "signoff_vs_spiffworkflow": round(vs_spiff, 3),
            "signoff_vs_spiffworkflow_reload": round(
                rates["signoff"] / rates["spiffworkflow_reload"], 3
            ),
            "signoff_vs_raw_sqlite3": round(vs_raw, 3),
            "signoff_vs_raw_sqlite3_unchained": round(
                rates["signoff"] / rates["raw_sqlite3_unchained"], 3
            ),
        },
        "goals": {
            "signoff_vs_spiffworkflow": GOAL_VS_SPIFF,
            "signoff_vs_spiffworkflow_met": vs_spiff >= GOAL_VS_SPIFF,
            "signoff_vs_raw_sqlite3": GOAL_VS_RAW,
            "signoff_vs_raw_sqlite3_met": vs_raw >= GOAL_VS_RAW,
            # how much faster Signoff would have to be to reach 0.5x raw sqlite3
            "speed_up_needed_for_half_raw_sqlite3": round(0.5 / vs_raw, 2),
        },
        "checks": checks,
        "environment": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": version("sqlalchemy"),
            "sqlmodel": version("sqlmodel"),
            "spiffworkflow": version("spiffworkflow"),
        },
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2))
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()

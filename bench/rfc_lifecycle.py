"""Complete RFC lifecycles per second: Signoff's services vs SpiffWorkflow vs raw sqlite3.

Each lifecycle is create, submit, impact analysis (minor), decision: four steps, each its own
transaction, as the API does them. Signoff writes state, audit events, approval tasks and
outbox rows; SpiffWorkflow runs a BPMN model of the same lifecycle and saves its serialized
state to SQLite after every step; raw sqlite3 does equivalent writes by hand.

    uv run python bench/rfc_lifecycle.py [--quick] [--n N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import ROOT, seed_project, use_database

WARM_UP = 5


def run_signoff(folder: Path, n: int) -> float:
    use_database(folder / "signoff.db")
    actors = seed_project()
    from core.db import write_session
    from models.rfcs import DecisionInput, ImpactInput, RfcCreate
    from services import rfcs

    impact = ImpactInput(days_of_work=1, products_affected="plan", cost_pence=0,
                         extends_timescale=False, needs_extra_resources=False,
                         recommendation="Accommodate within the stage.")
    def lifecycle(i: int) -> None:
        with write_session() as s:
            rfc_id = rfcs.create_rfc(s, actor=actors["requester"], project_code="BENCH",
                                     data=RfcCreate(title=f"Change {i}", description="Merge tasks")).id
        with write_session() as s:
            rfcs.submit_rfc(s, actor=actors["requester"], rfc_id=rfc_id)
        with write_session() as s:
            rfcs.record_impact(s, actor=actors["pm"], rfc_id=rfc_id, data=impact)
        with write_session() as s:
            rfcs.decide(s, actor=actors["pm"], rfc_id=rfc_id,
                        data=DecisionInput(decision="approve", reason=""))

    for i in range(WARM_UP):  # first use imports and compiles lazily; not what we measure
        lifecycle(-1 - i)
    start = time.perf_counter()
    for i in range(n):
        lifecycle(i)
    return n / (time.perf_counter() - start)


def run_spiff(folder: Path, n: int) -> float:
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.util.task import TaskState

    parser = BpmnParser()
    parser.add_bpmn_file(str(ROOT / "bench" / "rfc_lifecycle.bpmn"))
    spec = parser.get_spec("rfc_lifecycle")
    serializer = BpmnWorkflowSerializer()
    db = sqlite3.connect(folder / "spiff.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE workflow (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    data = {"major": False, "decision": "approve", "title": "Merge tasks"}
    start = time.perf_counter()
    for _ in range(n):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        db.execute("BEGIN")
        wid = db.execute("INSERT INTO workflow (state) VALUES (?)",
                         (serializer.serialize_json(workflow),)).lastrowid
        db.execute("COMMIT")
        while not workflow.is_completed():
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            db.execute("BEGIN")
            db.execute("UPDATE workflow SET state = ? WHERE id = ?",
                       (serializer.serialize_json(workflow), wid))
            db.execute("COMMIT")
    return n / (time.perf_counter() - start)


RAW_SCHEMA = """
CREATE TABLE rfc (id INTEGER PRIMARY KEY, ref TEXT UNIQUE, title TEXT, description TEXT,
  status TEXT, version INTEGER, classification TEXT, updated_at TEXT);
CREATE TABLE audit (id INTEGER PRIMARY KEY, rfc_id INTEGER, action TEXT, from_status TEXT,
  to_status TEXT, version INTEGER, at TEXT);
CREATE TABLE task (id INTEGER PRIMARY KEY, rfc_id INTEGER, kind TEXT, owner INTEGER,
  closed_at TEXT);
CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT UNIQUE, template TEXT, person INTEGER);
"""


def run_raw(folder: Path, n: int) -> float:
    db = sqlite3.connect(folder / "raw.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(RAW_SCHEMA)

    def move(rfc_id: int, frm: str, to: str, version: int, action: str) -> None:
        now = time.time()
        cur = db.execute("UPDATE rfc SET status=?, version=?, updated_at=? WHERE id=? AND "
                         "status=? AND version=?", (to, version + 1, now, rfc_id, frm, version))
        assert cur.rowcount == 1
        db.execute("INSERT INTO audit (rfc_id, action, from_status, to_status, version, at) "
                   "VALUES (?,?,?,?,?,?)", (rfc_id, action, frm, to, version + 1, now))

    start = time.perf_counter()
    for i in range(n):
        db.execute("BEGIN IMMEDIATE")
        rfc_id = db.execute("INSERT INTO rfc (ref, title, description, status, version) "
                            "VALUES (?,?,?,?,1)", (f"R-{i}", f"Change {i}", "Merge tasks",
                                                   "draft")).lastrowid
        db.execute("INSERT INTO audit (rfc_id, action, to_status, version, at) VALUES "
                   "(?,?,?,1,?)", (rfc_id, "create", "draft", time.time()))
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        move(rfc_id, "draft", "impact_analysis", 1, "submit")
        db.execute("INSERT INTO task (rfc_id, kind, owner) VALUES (?, 'impact', 3)", (rfc_id,))
        db.execute("INSERT INTO outbox (key, template, person) VALUES (?, 'submitted', 3)",
                   (hashlib.sha256(f"s{rfc_id}".encode()).hexdigest(),))
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        move(rfc_id, "impact_analysis", "awaiting_approval", 2, "record_impact")
        db.execute("UPDATE task SET closed_at=? WHERE rfc_id=? AND closed_at IS NULL",
                   (time.time(), rfc_id))
        db.execute("INSERT INTO task (rfc_id, kind, owner) VALUES (?, 'decision', 3)", (rfc_id,))
        db.execute("COMMIT")
        db.execute("BEGIN IMMEDIATE")
        move(rfc_id, "awaiting_approval", "approved", 3, "approve")
        db.execute("UPDATE task SET closed_at=? WHERE rfc_id=? AND closed_at IS NULL",
                   (time.time(), rfc_id))
        for person in (2, 3, 4):
            db.execute("INSERT INTO outbox (key, template, person) VALUES (?, 'decided', ?)",
                       (f"d{rfc_id}:{person}", person))
        db.execute("COMMIT")
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds, for smoke tests")
    parser.add_argument("--n", type=int, default=None, help="lifecycles per contender")
    args = parser.parse_args()
    n = args.n or (20 if args.quick else 200)
    with tempfile.TemporaryDirectory(prefix="signoff-bench-") as tmp:
        folder = Path(tmp)
        raw = run_raw(folder, n)
        spiff = run_spiff(folder, n)
        signoff = run_signoff(folder, n)
    print(json.dumps({
        "benchmark": "rfc_lifecycle",
        "lifecycles": n,
        "signoff_per_s": round(signoff, 1),
        "spiffworkflow_per_s": round(spiff, 1),
        "raw_sqlite3_per_s": round(raw, 1),
        "signoff_vs_spiffworkflow": round(signoff / spiff, 2),
        "signoff_vs_raw_sqlite3": round(signoff / raw, 3),
        "goal_signoff_vs_spiffworkflow": 5.0,
        "goal_met": signoff / spiff >= 5.0,
    }, indent=2))


if __name__ == "__main__":
    main()

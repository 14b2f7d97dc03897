"""The decision_http baseline: a minimal FastAPI endpoint doing the sponsor's decision in
hand-written SQL on the same database (token lookup, state check, conditional updates, audit
and outbox rows, one transaction). Run by bench/decision_http.py under the same uvicorn."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from datetime import UTC, datetime

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse

DB = os.environ["BASELINE_DB"]
app = FastAPI()
_local = threading.local()


def _conn() -> sqlite3.Connection:
    if not hasattr(_local, "db"):
        db = sqlite3.connect(DB, isolation_level=None, timeout=15)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        _local.db = db
    return _local.db


@app.post("/approvals/{raw}", response_class=HTMLResponse)
def decide(raw: str, decision: str = Form(...), reason: str = Form("")) -> HTMLResponse:
    db = _conn()
    now = datetime.now(UTC).replace(tzinfo=None)
    digest = hashlib.sha256(raw.encode()).hexdigest()
    db.execute("BEGIN IMMEDIATE")
    try:
        token = db.execute("SELECT id, subject_id, subject_version, person_id FROM action_token "
                           "WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL "
                           "AND expires_at > ?", (digest, now)).fetchone()
        if token is None:
            db.execute("ROLLBACK")
            return HTMLResponse("not valid", status_code=404)
        tid, rfc_id, version, person = token
        to = "approved" if decision == "approve" else "rejected"
        cur = db.execute("UPDATE rfc SET status = ?, version = version + 1, decided_by_id = ?, "
                         "decided_at = ?, decision_reason = ?, updated_at = ? WHERE id = ? AND "
                         "status = 'awaiting_approval' AND version = ?",
                         (to, person, now, reason, now, rfc_id, version))
        if cur.rowcount != 1:
            db.execute("ROLLBACK")
            return HTMLResponse("conflict", status_code=409)
        db.execute("UPDATE action_token SET used_at = ? WHERE id = ?", (now, tid))
        db.execute("INSERT INTO audit_event (at, actor_id, actor_role, actor_address, "
                   "subject_type, subject_id, subject_version, action, from_status, to_status, "
                   "outcome, detail) VALUES (?, ?, 'approver', '127.0.0.1', 'rfc', ?, ?, ?, "
                   "'awaiting_approval', ?, 'ok', '')", (now, person, rfc_id, version + 1,
                                                         decision, to))
        for who in (1, 2, 3):
            db.execute("INSERT INTO outbox_message (idempotency_key, template, to_person_id, "
                       "context, rfc_id, status, attempts, next_attempt_at, created_at) VALUES "
                       "(?, 'rfc_decided', ?, '{}', ?, 'queued', 0, ?, ?)",
                       (f"baseline:{rfc_id}:{who}", who, rfc_id, now, now))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return HTMLResponse(f"<h1>RFC {to}</h1>")

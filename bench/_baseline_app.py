"""The decision_http baseline: a minimal FastAPI app doing the sponsor's decision by hand.

The same rows and checks as Signoff's POST /approvals/{token}, in hand-written SQL on an
equivalent SQLite file: look the token up by its SHA-256, load the RFC and its project,
check the link (used, expired, version, approver), conditional UPDATE of the RFC on
(status, version), consume the token, close the approval task, revoke the RFC's other links,
append the audit event, queue the outbox rows (one per person told), commit. Like core.db,
each thread has its own connection and write transactions start with BEGIN IMMEDIATE, so
concurrent writers queue in SQLite's busy handler (timeout 15 s).

Run by bench/decision_http.py under the same uvicorn settings (BASELINE_DB names the file).
"""

from __future__ import annotations

import hashlib
import html
import os
import sqlite3
import threading
from datetime import UTC, datetime

from fastapi import FastAPI, Form
from fastapi.responses import HTMLResponse

DB = os.environ["BASELINE_DB"]
app = FastAPI(openapi_url="/openapi.json", docs_url=None, redoc_url=None)
_local = threading.local()


def _conn() -> sqlite3.Connection:
    db = getattr(_local, "db", None)
    if db is None:
        db = sqlite3.connect(DB, isolation_level=None, timeout=15)
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=15000",
        ):
            db.execute(f"PRAGMA {pragma}")
        _local.db = db
    return db


def _ts(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite, so comparisons with its rows hold."""
    return moment.replace(tzinfo=None).isoformat(" ")


def _page(status: int, text: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><title>{html.escape(text)}</title><h1>{html.escape(text)}</h1>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _looks_like_token(raw: str) -> bool:
    return 20 <= len(raw) <= 100 and all(c.isalnum() or c in "-_" for c in raw)


@app.post("/approvals/{raw}", response_class=HTMLResponse)
def decide(raw: str, decision: str = Form(""), reason: str = Form("")) -> HTMLResponse:
    reason = reason.strip()
    if decision not in ("approve", "reject") or len(reason) > 10_000:
        return _page(422, "Select whether you approve or reject the change")
    if decision == "reject" and not reason:
        return _page(422, "Enter the reason for rejecting the change")
    if not _looks_like_token(raw):
        return _page(404, "This link is not valid")
    digest = hashlib.sha256(raw.encode()).hexdigest()
    now = _ts(datetime.now(UTC))
    db = _conn()
    db.execute("BEGIN IMMEDIATE")
    try:
        page = _decide(db, digest, decision, reason, now)
        db.execute("COMMIT" if page.status_code == 200 else "ROLLBACK")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return page


def _decide(
    db: sqlite3.Connection, digest: str, decision: str, reason: str, now: str
) -> HTMLResponse:
    token = db.execute(
        "SELECT id, purpose, subject_id, subject_version, person_id, expires_at, used_at, "
        "revoked_at FROM action_token WHERE token_hash = ?",
        (digest,),
    ).fetchone()
    if token is None or token[1] != "approve_rfc" or (token[6] is None and token[5] <= now):
        return _page(404, "This link is not valid")
    token_id, _, rfc_id, link_version, person, _, used_at, revoked_at = token
    ref, status, version, requester, approver, manager, sponsor = db.execute(
        "SELECT r.ref, r.status, r.version, r.requester_id, r.approver_id, p.manager_id, "
        "p.sponsor_id FROM rfc r JOIN project p ON p.id = r.project_id WHERE r.id = ?",
        (rfc_id,),
    ).fetchone()
    (name,) = db.execute("SELECT name FROM person WHERE id = ?", (person,)).fetchone()
    if used_at is not None or status != "awaiting_approval":
        return _page(410, f"{ref} has already been decided: it is {status}.")
    if approver != person:
        return _page(404, "This link is not valid")
    if revoked_at is not None or link_version != version:
        return _page(409, f"{ref} has changed since this link was sent.")
    to = "approved" if decision == "approve" else "rejected"
    moved = db.execute(
        "UPDATE rfc SET decided_by_id = ?, decided_at = ?, decision_reason = ?, status = ?, "
        "version = ?, updated_at = ? WHERE id = ? AND status = ? AND version = ?",
        (person, now, reason, to, version + 1, now, rfc_id, status, version),
    ).rowcount
    if moved != 1:
        return _page(409, f"{ref} was changed by someone else at the same moment.")
    db.execute(
        "INSERT INTO audit_event (at, actor_id, actor_role, actor_address, subject_type, "
        "subject_id, subject_version, action, from_status, to_status, outcome, detail) "
        "VALUES (?, ?, 'approver', '127.0.0.1', 'rfc', ?, ?, ?, ?, ?, 'ok', 'via emailed link')",
        (now, person, rfc_id, version + 1, decision, status, to),
    )
    used = db.execute(
        "UPDATE action_token SET used_at = ? WHERE id = ? AND used_at IS NULL AND "
        "revoked_at IS NULL AND expires_at > ?",
        (now, token_id, now),
    ).rowcount
    if used != 1:
        return _page(409, f"{ref} was decided a moment ago by another request.")
    db.execute(
        "UPDATE step SET closed_at = ?, outcome = ? WHERE subject_type = 'rfc' AND "
        "subject_id = ? AND closed_at IS NULL",
        (now, to, rfc_id),
    )
    db.execute(
        "UPDATE action_token SET revoked_at = ? WHERE purpose = 'approve_rfc' AND "
        "subject_type = 'rfc' AND subject_id = ? AND used_at IS NULL AND "
        "revoked_at IS NULL",
        (now, rfc_id),
    )
    for who in dict.fromkeys(p for p in (requester, manager, sponsor, approver) if p):
        db.execute(
            "INSERT INTO outbox_message (idempotency_key, template, to_person_id, context, "
            "subject_type, subject_id, status, attempts, next_attempt_at, created_at) VALUES "
            "(?, 'rfc_decided', ?, '{}', 'rfc', ?, 'queued', 0, ?, ?) "
            "ON CONFLICT (idempotency_key) DO NOTHING",
            (f"rfc_decided:rfc{rfc_id}:v{version + 1}:p{who}", who, rfc_id, now, now),
        )
    return _page(200, f"Thank you, {name}: {ref} is {to}")

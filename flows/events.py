"""Publish workflow moves from the audit trail as Prefect events (`signoff.rfc.<event>`).

The web app never imports Prefect, so its transitions reach Prefect's event feed from here:
each run reads the audit events after a cursor (a Prefect variable per Signoff database) and
posts them to the Prefect API. Event ids derive from the audit row, so Prefect stores a
re-published event once; the cursor trails the newest rows by a margin, because on PostgreSQL
a transaction can commit a lower id after a higher one.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from prefect import get_run_logger, task
from prefect.client.orchestration import get_client
from prefect.events import Event
from prefect.events.schemas.events import RelatedResource, Resource
from prefect.variables import Variable
from sqlalchemy.engine import make_url

from core import clock
from core.db import read_session
from core.settings import get_settings
from flows.common import TASK_OPTIONS
from services.platform import events as moves

SETTLE = timedelta(seconds=30)  # rows younger than this are published again next run
BATCH = 200
NAMESPACE = uuid.UUID("6f0d2b1c-58a4-4e4a-9b3e-5a1f3f0c9d21")


def database_identity() -> str:
    url = make_url(get_settings().database_url)
    return url.render_as_string(hide_password=True)


def cursor_name() -> str:
    digest = hashlib.sha256(database_identity().encode()).hexdigest()[:12]
    return f"signoff_audit_cursor_{digest}"


def to_event(row: dict[str, Any]) -> Event:
    ref, kind = row["ref"], row["subject_type"]
    return Event(
        id=uuid.uuid5(NAMESPACE, f"{database_identity()}#{row['audit_id']}"),
        occurred=row["at"],
        event=f"signoff.{kind}.{row['event']}",
        resource=Resource(
            {
                "prefect.resource.id": f"signoff.{kind}.{ref}",
                "prefect.resource.name": ref,
                f"signoff.{kind}.ref": ref,
                f"signoff.{kind}.version": str(row["version"]),
            }
        ),
        related=[RelatedResource(r) for r in row["related"]],
        payload={k: row[k] for k in ("from_status", "to_status", "actor_role", "audit_id")},
    )


@task(name="publish-events", **TASK_OPTIONS)
async def publish_events() -> int:
    """Post the moves after the cursor to Prefect; returns how many were posted."""
    name = cursor_name()
    stored = cursor = int(await Variable.aget(name, default=0) or 0)
    published, settled, settling = 0, cursor, True
    async with get_client() as client:
        while True:
            with read_session() as session:
                rows = moves.transitions_since(session, after_id=cursor, limit=BATCH)
            if not rows:
                break
            events = [to_event(r).model_dump(mode="json") for r in rows]
            response = await client.request("POST", "/events", json=events)  # type: ignore[arg-type]
            response.raise_for_status()
            published += len(rows)
            cursor = rows[-1]["audit_id"]
            old_enough = clock.now() - SETTLE
            for row in rows:  # the cursor stops at the first row that may still have company
                settling = settling and row["at"] <= old_enough
                if settling:
                    settled = row["audit_id"]
            if len(rows) < BATCH:
                break
    if settled != stored:
        await Variable.aset(name, settled, overwrite=True)
    if published:
        get_run_logger().info("published %d events (cursor now %d)", published, settled)
    return published

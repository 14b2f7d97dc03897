"""Administration: the email outbox, and sending a failed message again."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from api.pages import forms
from api.pages.common import admin, see_other
from api.rendering import render
from core.db import read_session, write_session
from models import Person
from services.platform import outbox, people

router = APIRouter(include_in_schema=False)
STATUSES = ("failed", "queued", "sending", "sent", "dropped")
PAGE_SIZE = 50


@router.get("/admin/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request, status: str = "", before: str = "", person: Person = Depends(admin)
) -> Response:
    status = status if status in STATUSES else ""
    before_id = int(before) if before.isascii() and before.isdigit() and len(before) < 10 else None
    with read_session() as session:
        messages = outbox.list_messages(
            session, status=status or None, before_id=before_id, limit=PAGE_SIZE + 1
        )
        shown = messages[:PAGE_SIZE]
        named = people.by_ids(session, [m.to_person_id for m in shown])
        rows = [(m, named.get(m.to_person_id)) for m in shown]
    more = len(messages) > PAGE_SIZE
    keep = f"status={status}&" if status else ""
    return render(
        request,
        "pages/outbox.html",
        {
            "title": "Outbox",
            "rows": rows,
            "status": status,
            "statuses": STATUSES,
            "section": "/admin/outbox",
            "next_href": f"?{keep}before={rows[-1][0].id}" if more else None,
            "first_href": f"?{keep}".rstrip("&") if before_id else None,
        },
        person=person,
    )


@router.post("/admin/outbox/{message_id}/requeue", response_class=HTMLResponse)
def requeue(
    request: Request,
    message_id: int,
    person: Person = Depends(admin),
    form: dict[str, str] = forms.POSTED,
) -> Response:
    with write_session() as session:
        outbox.requeue(session, message_id=message_id)
    return see_other("/admin/outbox?status=failed", "The email is queued to be sent again.")

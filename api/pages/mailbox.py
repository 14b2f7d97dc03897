"""The demo mailbox: what the capture SMTP server caught. Mounted only in demo and test."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import page_person
from api.rendering import render
from core import capture_smtp
from services.platform.errors import NotFound

router = APIRouter(include_in_schema=False)


@router.get("/mailbox", response_class=HTMLResponse)
def mailbox(request: Request) -> Response:
    return render(
        request,
        "pages/mailbox.html",
        {"title": "Demo mailbox", "messages": capture_smtp.messages()},
        person=page_person(request),
    )


@router.get("/mailbox/{key}", response_class=HTMLResponse)
def message(request: Request, key: str) -> Response:
    found = dict(capture_smtp.messages(limit=10_000)).get(key)
    if found is None:
        raise NotFound("There is no such message.")
    parsed = BytesParser(policy=policy.default).parsebytes(found.as_bytes())
    part = parsed.get_body(preferencelist=("plain",))
    body = part.get_content() if part is not None else ""
    return render(
        request,
        "pages/mailbox_message.html",
        {
            "title": str(parsed["Subject"]),
            "subject": str(parsed["Subject"]),
            "headers": {k: str(parsed[k] or "") for k in ("From", "To", "Date", "Message-ID")},
            "body": body,
            "back_href": "/mailbox",
            "section": "/mailbox",
        },
        person=page_person(request),
    )

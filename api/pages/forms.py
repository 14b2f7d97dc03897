"""Form helpers: reading a POSTed form, the CSRF check, validation errors as GOV.UK messages.

A route that takes a form declares it as a dependency (`POSTED`, `Depends(posted(...))`,
`LINK_POSTED`, `UPLOADED`) and is itself a plain `def`. FastAPI reads the body on the event
loop, which is where reading it belongs, then runs the route on a worker thread, so nothing
that waits on the database or parses a spreadsheet runs on the event loop. Run there, an
administrator's scorecard import held up every other person's request until it finished
(~80 ms; bench/README.md, ninth pass).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, HTTPException, Request
from pydantic import ValidationError
from starlette.datastructures import UploadFile  # request.form()'s; FastAPI's is a subclass

from api.rendering import csrf_ok

MAX_FIELD = 20_000
MAX_UPLOAD = 5 * 1024 * 1024  # bytes: a scorecard or an operational plan, CSV or XLSX
EXPIRED = "The form has expired. Go back, reload the page and try again."


async def read_form(
    request: Request, *, max_fields: int = 50, whole: bool = False, csrf: bool = True
) -> dict[str, str]:
    """Form fields as strings, each cut at MAX_FIELD characters unless `whole`; with `csrf`,
    a missing or wrong CSRF token is refused outright (403) and the token is not returned.

    `whole` is for forms whose fields may be long and must be refused with the field named
    rather than shortened (a plan's section text); the body-size middleware bounds the body.
    The emailed links' pages are posted without a CSRF token: the link's token in the address
    is the secret, which another site cannot know."""
    raw = await request.form(max_files=0, max_fields=max_fields)
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    if csrf and not csrf_ok(request, form.pop("csrf_token", None)):
        raise HTTPException(403, EXPIRED)
    return form if whole else {k: v[:MAX_FIELD] for k, v in form.items()}


def posted(
    *, max_fields: int = 50, whole: bool = False, csrf: bool = True
) -> Callable[[Request], Awaitable[dict[str, str]]]:
    """`read_form` with these settings, as a dependency: `form: dict[str, str] =
    Depends(posted(max_fields=30))`, or `= POSTED` for the usual form."""

    async def fields(request: Request) -> dict[str, str]:
        return await read_form(request, max_fields=max_fields, whole=whole, csrf=csrf)

    return fields


POSTED = Depends(posted())
LINK_POSTED = Depends(posted(csrf=False))  # an emailed link's page: the address holds the secret


@dataclass(frozen=True)
class Upload:
    """A form that sends one file: its other fields (each cut at 200 characters) and the file
    (None when none was chosen)."""

    fields: dict[str, str]
    file: UploadFile | None

    def read(self) -> bytes:
        """The file's bytes, at most MAX_UPLOAD + 1 of them (one more than allowed, so a caller
        can tell a file that is too large); on the worker thread that runs the route."""
        return self.file.file.read(MAX_UPLOAD + 1) if self.file is not None else b""


async def read_upload(request: Request) -> Upload:
    """A form with one file of at most MAX_UPLOAD bytes; CSRF checked as `read_form` does."""
    raw = await request.form(max_files=1, max_fields=10, max_part_size=MAX_UPLOAD)
    token = raw.get("csrf_token")
    if not csrf_ok(request, token if isinstance(token, str) else None):
        raise HTTPException(403, EXPIRED)
    fields = {k: v[:200] for k, v in raw.items() if isinstance(v, str) and k != "csrf_token"}
    file = raw.get("file")
    return Upload(fields, file if isinstance(file, UploadFile) else None)


UPLOADED = Depends(read_upload)


FRIENDLY = {
    "string_too_short": "Enter {label}",
    "missing": "Enter {label}",
    "string_too_long": "{Label} must be {max_length:,} characters or fewer",
    "greater_than_equal": "{Label} must be {ge} or more",
    "less_than_equal": "{Label} must be {le:,} or less",
}


def field_errors(exc: ValidationError, labels: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for e in exc.errors():
        field = str(e["loc"][0]) if e["loc"] else ""
        if field in errors:
            continue
        label = labels.get(field, field.replace("_", " "))
        ctx: dict[str, Any] = dict(e.get("ctx") or {})
        template = FRIENDLY.get(e["type"])
        if template:
            try:
                errors[field] = template.format(
                    label=label, Label=label[:1].upper() + label[1:], **ctx
                )
                continue
            except (KeyError, ValueError):
                pass
        msg = str(e.get("msg", "is not valid")).removeprefix("Value error, ")
        # An error about the whole form (no field) is said as it is, capitalised.
        said = f"{label}: {msg}" if label else msg
        errors[field] = said[:1].upper() + said[1:]
    return errors


def _digits(text: str) -> bool:
    """ASCII 0-9 only: str.isdigit() also accepts "²" and "④", which int() then refuses."""
    return text.isascii() and text.isdigit()


def parse_int(value: str | None) -> int | None | str:
    """An integer, None when blank, or the original text when it is not a number."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if _digits(value) and len(value) < 10 else value


def parse_decimal(value: str | None) -> float | None:
    """A plain decimal like "2" or "0.5" (no signs, exponents, nan or inf); None otherwise."""
    whole, _, frac = (value or "").strip().partition(".")
    if not (_digits(whole) or (not whole and frac)) or (frac and not _digits(frac)):
        return None
    if len(whole) > 6 or len(frac) > 3:
        return None
    return float(f"{whole or 0}.{frac or 0}")


def parse_pounds(value: str | None) -> int | None:
    """Pounds as typed (e.g. "1,250.50") to integer pence; None when not a valid amount."""
    text = (value or "").strip().replace(",", "").removeprefix("£")
    if not text:
        return None
    whole, _, frac = text.partition(".")
    if not _digits(whole) or len(whole) > 10 or (frac and (not _digits(frac) or len(frac) > 2)):
        return None
    return int(whole) * 100 + int(frac.ljust(2, "0") or 0)

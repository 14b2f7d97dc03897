"""Form helpers: CSRF check, reading fields, turning validation errors into GOV.UK messages."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from pydantic import ValidationError

from api.rendering import csrf_ok

MAX_FIELD = 20_000


async def read_form(request: Request, *, max_fields: int = 50) -> dict[str, str]:
    """Form fields as strings; a missing or wrong CSRF token is refused outright."""
    raw = await request.form(max_files=0, max_fields=max_fields)
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    if not csrf_ok(request, form.get("csrf_token")):
        raise HTTPException(403, "The form has expired. Go back, reload the page and try again.")
    return {k: v[:MAX_FIELD] for k, v in form.items() if k != "csrf_token"}


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

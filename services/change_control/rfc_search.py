"""Finding RFCs: filtered, text-searched, keyset-paginated lists (for the API and the pages)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass

from sqlmodel import Session, col, or_, select

from models.change_control import Rfc
from models.change_control.rfcs import Classification, RfcStatus
from services.platform.errors import Invalid, NotFound

LIMIT_MAX = 200
Q_MAX = 200
REF_PATTERN = r"[A-Z][A-Z0-9-]{0,19}-RFC-[0-9]{3,10}"
ID_MAX = 2**31 - 1  # ids are 32-bit on PostgreSQL: a larger one could never match


@dataclass(frozen=True)
class RfcQuery:
    q: str = ""  # case-insensitive substring of ref, title, description
    status: RfcStatus | None = None
    classification: Classification | None = None
    project_id: int | None = None  # None = every project (callers check permission)
    limit: int = 50
    cursor: str | None = None  # opaque; from the previous page's next_cursor


@dataclass
class RfcPage:
    rows: list[Rfc]  # newest first (id descending)
    next_cursor: str | None


def search(session: Session, *, query: RfcQuery) -> RfcPage:
    """One page of RFCs matching the query, newest first, and the cursor of the next page."""
    _check(query)
    stmt = select(Rfc)
    if query.project_id is not None:
        stmt = stmt.where(col(Rfc.project_id) == query.project_id)
    if query.status is not None:
        stmt = stmt.where(col(Rfc.status) == query.status.value)
    if query.classification is not None:
        stmt = stmt.where(col(Rfc.classification) == query.classification.value)
    if query.q.strip():
        pattern = f"%{_escape_like(query.q.strip())}%"
        stmt = stmt.where(
            or_(
                *(
                    c.ilike(pattern, escape="\\")
                    for c in (col(Rfc.ref), col(Rfc.title), col(Rfc.description))
                )
            )
        )
    if query.cursor is not None:
        stmt = stmt.where(col(Rfc.id) < _decode_cursor(query))
    # One row more than asked tells whether there is a next page without a COUNT.
    rows = list(session.exec(stmt.order_by(col(Rfc.id).desc()).limit(query.limit + 1)))
    if len(rows) <= query.limit:
        return RfcPage(rows=rows, next_cursor=None)
    rows = rows[: query.limit]
    return RfcPage(rows=rows, next_cursor=_encode_cursor(query, rows[-1].id or 0))


def rfc_id_for(session: Session, *, key: str) -> int:
    """The id of the RFC named by its numeric id or its reference (e.g. CSE-RFC-003)."""
    if key.isdigit() and key.isascii():
        rfc_id = int(key)
        if not 1 <= rfc_id <= ID_MAX:
            raise Invalid(f"An RFC id is a whole number from 1 to {ID_MAX}.")
        return rfc_id
    if not re.fullmatch(REF_PATTERN, key):
        raise Invalid("Name an RFC by its id (e.g. 7) or its reference (e.g. CSE-RFC-003).")
    found = session.exec(select(Rfc.id).where(col(Rfc.ref) == key)).first()
    if found is None:
        raise NotFound(f"There is no Request for Change {key}.")
    return found


def _check(query: RfcQuery) -> None:
    if not 1 <= query.limit <= LIMIT_MAX:
        raise Invalid(f"The limit must be from 1 to {LIMIT_MAX}.")
    if len(query.q) > Q_MAX:
        raise Invalid(f"Search for at most {Q_MAX} characters.")
    # PostgreSQL refuses NUL in a string, and no stored title holds a control character.
    if any(ord(c) < 32 or ord(c) == 127 for c in query.q):
        raise Invalid("The search text must not contain control characters.")


def _escape_like(text: str) -> str:
    """The text as a literal inside a LIKE pattern: % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(query: RfcQuery) -> str:
    """A digest of the filters, so a cursor cannot be replayed against another query."""
    key = json.dumps([query.q.strip(), query.status, query.classification, query.project_id])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _encode_cursor(query: RfcQuery, last_id: int) -> str:
    raw = json.dumps({"before": last_id, "filters": _filters(query)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _decode_cursor(query: RfcQuery) -> int:
    bad = Invalid("The cursor is not valid: use the next_cursor of the previous page unchanged.")
    text = query.cursor or ""
    if len(text) > 200 or not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise bad
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        raise bad from None
    before = data.get("before") if isinstance(data, dict) else None
    if type(before) is not int or not 1 <= before <= ID_MAX + 1:
        raise bad
    if data.get("filters") != _filters(query):
        raise Invalid(
            "The cursor belongs to a search with other filters: start from the first page."
        )
    return before

"""Action links: single-use, expiring tokens bound to (purpose, subject, version, person)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, case, insert, or_, update
from sqlmodel import Session, col, select

from core import clock, tokens
from core.settings import get_settings
from core.statements import Prepared
from models import ActionToken
from services.platform import subjects

subjects.register_link("sign_in", "/sign-in/")


# Built once. RETURNING gives each new id with its hash (unique), by which the ids are put
# back in the order the links were asked for: asking the database to keep that order makes
# SQLite insert one row per statement.
_LINK = ActionToken.__table__  # type: ignore[attr-defined]
_ISSUE = insert(_LINK).returning(_LINK.c.id, _LINK.c.token_hash)
_FIND = Prepared(select(ActionToken).where(col(ActionToken.token_hash) == bindparam("token_hash")))
# A subject's live links of one purpose (one person's, in `_REVOKE_PERSON`).
_LIVE = (
    _LINK.c.purpose == bindparam("b_purpose"),
    _LINK.c.subject_type == bindparam("b_subject_type"),
    _LINK.c.subject_id == bindparam("b_subject_id"),
    _LINK.c.used_at.is_(None),
    _LINK.c.revoked_at.is_(None),
)
_REVOKE_ANY = update(_LINK).where(*_LIVE).values(revoked_at=bindparam("b_now"))
_REVOKE = Prepared(_REVOKE_ANY)
_REVOKE_PERSON = Prepared(_REVOKE_ANY.where(_LINK.c.person_id == bindparam("b_person_id")))
# The link a move is made through is used, the subject's other live links revoked, in one
# UPDATE; the used link must not have expired.
_THIS = _LINK.c.id == bindparam("b_using_id")
_NOW = bindparam("b_now", type_=_LINK.c.used_at.type)  # typed: inside CASE it has no column
_USE_AND_REVOKE = Prepared(
    update(_LINK)
    .where(*_LIVE, or_(~_THIS, _LINK.c.expires_at > _NOW))
    .values(used_at=case((_THIS, _NOW), else_=None), revoked_at=case((_THIS, None), else_=_NOW))
    .returning(_LINK.c.id)
)


@dataclass(frozen=True)
class For:
    """Whom a link is for and what it is about."""

    person_id: int
    subject_type: str
    subject_id: int
    subject_version: int


def issue(
    session: Session,
    *,
    purpose: str,
    subject_type: str,
    subject_id: int,
    subject_version: int,
    person_id: int,
    lifetime: timedelta | None = None,
) -> int:
    """Create a token row and return its id; the raw token is derived again when the email
    is built."""
    (link_id,) = issue_each(
        session,
        purpose=purpose,
        links=[For(person_id, subject_type, subject_id, subject_version)],
        lifetime=lifetime,
    )
    return link_id


def issue_each(
    session: Session, *, purpose: str, links: list[For], lifetime: timedelta | None = None
) -> list[int]:
    """Links of one purpose for many people and subjects in one INSERT: their ids, in order."""
    if not links:
        return []
    now = clock.now()
    expires = now + (lifetime or timedelta(days=get_settings().action_link_days))
    rows = []
    for link in links:
        salt = tokens.new_salt()
        rows.append(
            {
                "purpose": purpose,
                "subject_type": link.subject_type,
                "subject_id": link.subject_id,
                "subject_version": link.subject_version,
                "person_id": link.person_id,
                "salt": salt,
                "token_hash": tokens.hash_token(tokens.derive_token(salt)),
                "created_at": now,
                "expires_at": expires,
            }
        )
    made = dict(
        (row.token_hash, row.id)
        for row in session.execute(_ISSUE, rows[0] if len(rows) == 1 else rows)
    )
    return [int(made[row["token_hash"]]) for row in rows]


def revoke_for_subject(
    session: Session,
    *,
    purpose: str,
    subject_type: str,
    subject_id: int,
    using: ActionToken | None = None,
) -> bool:
    """Invalidate every live link about a subject (it changed, or was decided).

    With `using`, the link the move was made through is marked used instead, in the same
    UPDATE; returns False when that link was no longer live (another request used it first,
    or it expired), True otherwise.
    """
    about = {
        "b_purpose": purpose,
        "b_subject_type": subject_type,
        "b_subject_id": subject_id,
        "b_now": clock.now(),
    }
    if using is None:
        _REVOKE.run(session, about)
        return True
    touched = _USE_AND_REVOKE.run(session, about | {"b_using_id": using.id}).rows
    return (using.id,) in touched


def newest_live(
    session: Session, *, purpose: str, subject_type: str, subject_id: int, person_id: int
) -> ActionToken | None:
    """The person's most recently issued link about a subject that still works, if any."""
    return session.exec(
        select(ActionToken)
        .where(
            ActionToken.purpose == purpose,
            ActionToken.subject_type == subject_type,
            ActionToken.subject_id == subject_id,
            ActionToken.person_id == person_id,
            ActionToken.used_at.is_(None),  # type: ignore[union-attr]
            ActionToken.revoked_at.is_(None),  # type: ignore[union-attr]
            ActionToken.expires_at > clock.now(),  # type: ignore[arg-type]
        )
        .order_by(ActionToken.id.desc())  # type: ignore[union-attr]
    ).first()


def revoke_for_person(
    session: Session, *, purpose: str, subject_type: str, subject_id: int, person_id: int
) -> None:
    """Invalidate one person's live links about a subject, before a replacement is issued:
    a person never holds several live links for the same thing."""
    _REVOKE_PERSON.run(
        session,
        {
            "b_purpose": purpose,
            "b_subject_type": subject_type,
            "b_subject_id": subject_id,
            "b_person_id": person_id,
            "b_now": clock.now(),
        },
    )


def find(session: Session, raw: str, purpose: str) -> ActionToken | None:
    """The token row for a raw token, or None for junk and unknown tokens."""
    if not tokens.looks_like_token(raw):
        return None
    row = _FIND.load_one(session, {"token_hash": tokens.hash_token(raw)}, ActionToken)
    return row if row is not None and row.purpose == purpose else None


def is_live(token: ActionToken) -> bool:
    return token.used_at is None and token.revoked_at is None and token.expires_at > clock.now()


def consume(session: Session, token: ActionToken) -> bool:
    """Mark a token used; False when another request used it first."""
    now = clock.now()
    result = session.execute(
        update(ActionToken)
        .where(
            ActionToken.id == token.id,  # type: ignore[arg-type]
            ActionToken.used_at.is_(None),  # type: ignore[union-attr]
            ActionToken.revoked_at.is_(None),  # type: ignore[union-attr]
            ActionToken.expires_at > now,  # type: ignore[arg-type]
        )
        .values(used_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def url_for(token: ActionToken) -> str:
    """The absolute link, always built from SIGNOFF_BASE_URL, never from a request."""
    base = get_settings().base_url.rstrip("/")
    return base + subjects.link_path(token.purpose) + tokens.derive_token(token.salt)

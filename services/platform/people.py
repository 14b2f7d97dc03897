"""People, API tokens, sign-in links and web sessions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from core import clock, tokens
from core.settings import get_settings
from core.statements import Prepared
from models import ApiToken, Person, WebSession
from models.people import PersonCreate, PersonUpdate
from models.text import look_alike_key
from services.platform.errors import Conflict, Gone, Invalid, NotFound

# services.platform.action_links and .outbox are imported where sign-in needs them: the
# `signoff users` and `tokens` commands start faster without them (and what they import).

API_TOKEN_PREFIX = "sgf_"  # noqa: S105 - a prefix, not a secret


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> Person | None:
    if len(email) > 254 or any(ord(c) < 33 or ord(c) == 127 for c in email.strip()):
        return None  # no registered address has spaces or control characters
    return session.exec(select(Person).where(Person.email == normalise_email(email))).first()


def by_ids(session: Session, ids: Iterable[int | None]) -> dict[int, Person]:
    """The people with these ids (None and unknown ids are left out), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(select(Person).where(col(Person.id).in_(wanted)))
    return {p.id: p for p in rows if p.id is not None}


def add_person(session: Session, *, data: PersonCreate) -> Person:
    """Register a person; their email address is their identity.

    An address that only looks like a registered one (a Cyrillic "о" for an "o") is refused:
    links sent there would go to someone else while the pages show a trusted name.
    """
    if find_by_email(session, data.email) is not None:
        raise Conflict(f"{data.email} is already registered.")
    key = look_alike_key(normalise_email(data.email))
    for (email,) in session.execute(select(Person.email)):
        if look_alike_key(email) == key:
            raise Conflict(
                f"{data.email} looks like {email}, who is already registered. "
                "Check the address letter by letter."
            )
    person = Person(
        name=data.name.strip(),
        email=normalise_email(data.email),
        job_title=data.job_title,
        is_admin=data.is_admin,
        created_at=clock.now(),
    )
    session.add(person)
    session.flush()
    return person


def namesakes(session: Session, *, name: str, exclude_id: int | None = None) -> list[Person]:
    """People whose name looks the same as `name` (an admin is warned before adding another)."""
    key = look_alike_key(name)
    return [
        p
        for p in session.exec(select(Person))
        if look_alike_key(p.name) == key and p.id != exclude_id
    ]


def list_people(session: Session) -> list[Person]:
    """Everyone registered, in the order they were added."""
    return list(session.exec(select(Person).order_by(col(Person.id))))


def update_person(session: Session, *, email: str, data: PersonUpdate) -> Person:
    """Change a person's name, job title or administrator flag; their email stays."""
    person = find_by_email(session, email)
    if person is None:
        raise NotFound(f"No person is registered with {email}.")
    changes = {
        k: v for k, v in data.model_dump(exclude_none=True).items() if getattr(person, k) != v
    }
    if not changes:
        raise Invalid(f"Nothing was changed: {person.email} already has those details.")
    for key, value in changes.items():
        setattr(person, key, value)
    session.add(person)
    session.flush()
    return person


def ensure_person(session: Session, *, name: str, email: str, job_title: str = "") -> Person:
    """The person with this address, registering them if new (used by imports)."""
    existing = find_by_email(session, email)
    if existing is not None:
        return existing
    return add_person(session, data=PersonCreate(name=name, email=email, job_title=job_title))


def create_api_token(
    session: Session, *, email: str, label: str = "", expires_days: int | None = None
) -> str:
    """A new personal API token, working until revoked or for `expires_days`; only its hash
    is kept, so it is shown once."""
    person = find_by_email(session, email)
    if person is None:
        raise NotFound(f"No person is registered with {email}.")
    if expires_days is not None and not 1 <= expires_days <= 3650:
        raise Invalid("An API token must expire after 1 to 3650 days.")
    raw = tokens.new_random_token(API_TOKEN_PREFIX)
    now = clock.now()
    session.add(
        ApiToken(
            person_id=person.id or 0,
            token_hash=tokens.hash_token(raw),
            label=label,
            created_at=now,
            expires_at=now + timedelta(days=expires_days) if expires_days else None,
        )
    )
    return raw


def list_api_tokens(session: Session, *, email: str | None = None) -> list[tuple[ApiToken, Person]]:
    """API tokens (revoked ones too) with their owners, oldest first; only one person's if given."""
    stmt = select(ApiToken, Person).join(Person, col(Person.id) == col(ApiToken.person_id))
    if email is not None:
        person = find_by_email(session, email)
        if person is None:
            raise NotFound(f"No person is registered with {email}.")
        stmt = stmt.where(col(ApiToken.person_id) == person.id)
    return [(token, person) for token, person in session.exec(stmt.order_by(col(ApiToken.id)))]


def revoke_api_token(session: Session, *, token_id: int) -> tuple[ApiToken, Person]:
    """Stop an API token working from now on; the row stays, so the list shows when."""
    row = session.get(ApiToken, token_id) if 1 <= token_id <= 2**31 - 1 else None
    if row is None:
        raise NotFound(f"There is no API token with id {token_id}.")
    if row.revoked_at is not None:
        raise Conflict(
            f"API token {token_id} was already revoked on {row.revoked_at:%Y-%m-%d %H:%M} UTC."
        )
    row.revoked_at = clock.now()
    session.add(row)
    session.flush()
    person = session.get(Person, row.person_id)
    assert person is not None  # foreign key
    return row, person


def person_for_api_token(session: Session, raw: str) -> Person | None:
    if not raw.startswith(API_TOKEN_PREFIX) or not tokens.looks_like_token(raw[4:]):
        return None
    row = session.exec(
        select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(raw))
    ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= clock.now():
        return None
    person = session.get(Person, row.person_id)
    return person if person is not None and person.active else None


def request_sign_in(session: Session, *, email: str) -> None:
    """Email a one-time sign-in link if the address is registered; silent otherwise.

    Never floods an inbox: while the person's newest live link is younger than
    SIGNOFF_LINK_REUSE_MINUTES nothing is sent (they already have an email); an older live
    link is revoked and replaced (one live sign-in link per person); and no more than
    SIGNOFF_LINK_EMAILS_PER_HOUR links are sent to an address in an hour. The caller shows
    the same answer whatever happened.
    """
    from services.platform import action_links, outbox

    person = find_by_email(session, email)
    if person is None or not person.active:
        return
    lock_person_links(session, person)
    settings = get_settings()
    about: dict[str, Any] = {
        "purpose": "sign_in",
        "subject_type": "person",
        "subject_id": person.id or 0,
        "person_id": person.id or 0,
    }
    newest = action_links.newest_live(session, **about)
    if newest is not None and newest.created_at > clock.now() - timedelta(
        minutes=settings.link_reuse_minutes
    ):
        return
    if over_hourly_email_limit(session, bucket="sign_in_email", email=person.email):
        return
    action_links.revoke_for_person(session, **about)
    link_id = action_links.issue(
        session,
        subject_version=0,
        **about,
        lifetime=timedelta(minutes=settings.sign_in_link_minutes),
    )
    outbox.queue(
        session,
        template="sign_in",
        to_person_id=person.id or 0,
        key=f"sign_in:{link_id}",
        action_token_id=link_id,
    )


def over_hourly_email_limit(session: Session, *, bucket: str, email: str) -> bool:
    """Count one more link email to this address; True when that passes the hourly limit."""
    from services.platform import throttle

    sent = throttle.count(
        session, bucket=bucket, value=normalise_email(email), window=timedelta(hours=1)
    )
    return sent.hits > get_settings().link_emails_per_hour


def lock_person_links(session: Session, person: Person) -> None:
    """Take the person's row lock, so two requests for their links (on two web workers) run
    one after the other and the second sees the first's link. PostgreSQL only: SQLite write
    transactions already run one at a time."""
    session.exec(select(Person.id).where(Person.id == person.id).with_for_update()).first()


def sign_in_link_is_live(session: Session, *, raw: str) -> bool:
    from services.platform import action_links

    token = action_links.find(session, raw, "sign_in")
    return token is not None and action_links.is_live(token)


def complete_sign_in(session: Session, *, raw: str) -> tuple[Person, str]:
    """Use a sign-in link: returns the person and a new session token for the cookie."""
    from services.platform import action_links

    token = action_links.find(session, raw, "sign_in")
    if token is None or not action_links.consume(session, token):
        raise Gone("This sign-in link has expired or has already been used. Ask for a new one.")
    person = session.get(Person, token.person_id)
    if person is None or not person.active:
        raise Gone("This sign-in link has expired or has already been used. Ask for a new one.")
    raw_session = tokens.new_random_token()
    now = clock.now()
    session.add(
        WebSession(
            person_id=person.id or 0,
            token_hash=tokens.hash_token(raw_session),
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().session_hours),
        )
    )
    return person, raw_session


# Every signed-in page asks: the session with its person, in one statement built once.
_SESSION_AND_PERSON = Prepared(
    select(WebSession, Person)
    .join(Person, col(Person.id) == col(WebSession.person_id))
    .where(col(WebSession.token_hash) == bindparam("token_hash"))
)


def person_for_session(session: Session, raw: str) -> Person | None:
    """The signed-in person for a session cookie; None if it is junk, unknown or expired, or
    the person has been deactivated."""
    if not tokens.looks_like_token(raw):
        return None
    found = _SESSION_AND_PERSON.load(
        session, {"token_hash": tokens.hash_token(raw)}, WebSession, Person
    )
    if not found:
        return None
    row, person = found[0]
    if row.expires_at <= clock.now() or not person.active:
        return None
    return person  # type: ignore[no-any-return]


def sign_out(session: Session, *, raw: str) -> None:
    session.execute(
        update(WebSession)
        .where(WebSession.token_hash == tokens.hash_token(raw))  # type: ignore[arg-type]
        .values(expires_at=clock.now())
    )

"""Entering a return's figures: by the officer's emailed link, or signed in.

The link follows docs/security.md: GET only shows; it is bound to the return, its version and
the officer; it works once (submitting all the figures together uses it); unknown and expired
links look alike. Signed in, the officer themselves or the performance team (administrators)
may enter a return's figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from core import clock
from models import ActionToken, Person
from models.performance import FigureReturn, ReturnStatus
from services.performance import figures
from services.performance.returns_workflow import ENTER_LINK
from services.platform import action_links
from services.platform.actors import Actor
from services.platform.errors import Forbidden, Gone, NotFound, Refusal

NOT_VALID = (
    "This link is not valid. It may have expired or been mistyped. Signoff sends a new link "
    "with each reminder, or sign in to enter your figures."
)


@dataclass
class ReturnView:
    """A return as its page shows it; `state` is live, used or submitted."""

    state: str
    ret: FigureReturn
    officer: Person
    items: list[figures.Item]
    token: ActionToken | None = None

    @property
    def outstanding(self) -> list[figures.Item]:
        return [i for i in self.items if i.outstanding]


def _view(session: Session, ret: FigureReturn, state: str, token: ActionToken | None) -> ReturnView:
    officer = session.get(Person, ret.officer_id)
    assert officer is not None
    items = figures.items(session, officer_id=ret.officer_id, period=ret.period)
    return ReturnView(state, ret, officer, items, token)


def by_link(session: Session, *, raw: str) -> ReturnView:
    """Read-only: the return a link is for, and whether the link can still be used."""
    token = action_links.find(session, raw, ENTER_LINK)
    if token is None or (token.used_at is None and token.expires_at <= clock.now()):
        raise NotFound(NOT_VALID)
    ret = session.get(FigureReturn, token.subject_id)
    if ret is None or ret.officer_id != token.person_id:
        raise NotFound(NOT_VALID)
    if token.used_at is not None:
        state = "used"
    elif ret.status != ReturnStatus.open:
        state = "submitted"
    elif token.revoked_at is not None:
        raise NotFound(NOT_VALID)  # replaced by a newer link, which the officer holds
    else:
        state = "live"
    return _view(session, ret, state, token)


def submit_by_link(
    session: Session, *, raw: str, entries: dict[int, figures.Entry], address: str
) -> int:
    """Save the return's figures through its link; the number saved."""
    view = by_link(session, raw=raw)
    if view.state != "live":
        raise Gone(
            "These figures have already been submitted: this link cannot be used again.",
            refusal=Refusal(
                "figure_return",
                view.ret.id or 0,
                view.ret.version,
                "submit",
                view.ret.status,
                view.officer.id,
                "officer",
                address,
            ),
        )
    actor = Actor(person_id=view.officer.id or 0, address=address)
    return figures.submit_return(
        session, ret=view.ret, entries=entries, actor=actor, link=view.token
    )


def for_person(session: Session, *, return_id: int, person: Person) -> ReturnView:
    """A return for a signed-in person: its officer or the performance team; else not found."""
    ret = session.get(FigureReturn, return_id)
    if ret is None or not (ret.officer_id == person.id or person.is_admin):
        raise NotFound("No such return of figures.")
    state = "live" if ret.status == ReturnStatus.open else "submitted"
    return _view(session, ret, state, None)


def submit_signed_in(
    session: Session,
    *,
    return_id: int,
    entries: dict[int, figures.Entry],
    actor: Actor,
    person: Person,
) -> int:
    view = for_person(session, return_id=return_id, person=person)
    if view.state != "live":
        raise Gone("These figures have already been submitted.")
    if not (person.id == view.ret.officer_id or person.is_admin):
        raise Forbidden("Only the officer or the performance team can enter these figures.")
    return figures.submit_return(session, ret=view.ret, entries=entries, actor=actor)


def returns_of(session: Session, *, person: Person) -> list[FigureReturn]:
    """The person's returns, open ones first, newest period first."""
    return list(
        session.exec(
            select(FigureReturn)
            .where(FigureReturn.officer_id == person.id)
            .order_by(col(FigureReturn.status), col(FigureReturn.period).desc())
        )
    )

"""Matching the officers an import file names to registered people.

Files spell people as they like ("Phil Aldis" and "Philip Aldis"). A name matches a person
when it is their registered name or an alias someone confirmed; a name that only resembles
one (a shortened first name, a typo) is flagged for a person to confirm, never guessed; a name
like nobody's is listed as unknown. Nobody is created from a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlmodel import Session, select

from core import clock
from models import Person
from models.performance import OfficerAlias
from services.platform.errors import Invalid, NotFound


def key(name: str) -> str:
    return " ".join(name.lower().split())


@dataclass(frozen=True)
class Directory:
    """Every active person's name and every confirmed alias, read once per import."""

    exact: dict[str, int]
    people: dict[int, Person]

    def find(self, name: str) -> int | None:
        return self.exact.get(key(name))

    def resembling(self, name: str) -> list[Person]:
        return [p for p in self.people.values() if p.active and alike(name, p.name)]


def directory(session: Session) -> Directory:
    people = {p.id: p for p in session.exec(select(Person)) if p.id is not None}
    exact = {key(p.name): pid for pid, p in people.items() if p.active}
    for alias in session.exec(select(OfficerAlias)):
        exact.setdefault(alias.name, alias.person_id)
    return Directory(exact, people)


def alike(a: str, b: str) -> bool:
    """Two different spellings that may be one person: the same surname and one first name
    the start of the other (Phil, Philip), or nearly the same letters (Georgina, Georgena)."""
    ka, kb = key(a), key(b)
    if ka == kb:
        return False
    pa, pb = ka.split(), kb.split()
    if len(pa) >= 2 and len(pb) >= 2 and pa[-1] == pb[-1]:
        first_a, first_b = pa[0], pb[0]
        if first_a.startswith(first_b) or first_b.startswith(first_a):
            return True
    return SequenceMatcher(None, ka, kb).ratio() >= 0.88


def confirm_alias(
    session: Session, *, name: str, person_id: int, by_id: int | None
) -> OfficerAlias:
    """Record that a file's spelling names this person (the import matches it from now on)."""
    person = session.get(Person, person_id)
    if person is None or not person.active:
        raise NotFound("No such person.")
    if not key(name) or len(name) > 120:
        raise Invalid("Give the name as the file spells it (at most 120 characters).")
    existing = session.exec(select(OfficerAlias).where(OfficerAlias.name == key(name))).first()
    if existing is not None:
        existing.person_id, existing.confirmed_by_id = person_id, by_id
        existing.confirmed_at = clock.now()
        return existing
    alias = OfficerAlias(
        name=key(name), person_id=person_id, confirmed_by_id=by_id, confirmed_at=clock.now()
    )
    session.add(alias)
    return alias

"""Request dependencies: sessions, the acting person, CSRF."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from core.db import read_session, write_session
from models import Person
from services.platform import people
from services.platform.actors import Actor

SESSION_COOKIE = "signoff_session"
ANON_COOKIE = "signoff_anon"

bearer = HTTPBearer(auto_error=False, description="A personal API token (`signoff tokens create`)")


def read_db() -> Iterator[Session]:
    with read_session() as session:
        yield session


def write_db() -> Iterator[Session]:
    with write_session() as session:
        yield session


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def api_person(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Person:
    if credentials is None:
        raise HTTPException(
            401,
            "Send a personal API token as 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with read_session() as session:
        person = people.person_for_api_token(session, credentials.credentials)
    if person is None:
        raise HTTPException(
            401, "The API token is not valid.", headers={"WWW-Authenticate": "Bearer"}
        )
    return person


def api_actor(request: Request, person: Person = Depends(api_person)) -> Actor:
    return Actor(
        person_id=person.id or 0, address=client_address(request), is_admin=person.is_admin
    )


def page_person(request: Request) -> Person | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    with read_session() as session:
        return people.person_for_session(session, raw)

"""Who is acting, and from where (a domain says what roles they hold on its subjects)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    person_id: int
    address: str = ""
    is_admin: bool = False

"""Fixtures of the service-planning cycle's tests (helpers: tests/support/planning.py).

`ccs` registers the council's officers (data/ccs_people.csv) and Portfolio Holders
(data/ccs_councillors.csv), opens the 2010/11 cycle and adds the Community and Customer
Services plan with its five signatory pairs, on 1 October 2009.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from support.performance import at, import_people, registered
from support.planning import add_plan, import_councillors, open_cycle

from core import clock


@dataclass
class Ccs:
    people: dict[str, Any]
    admin: Any
    owner: Any
    plan: Any
    cycle: Any

    def by_email(self, email: str) -> Any:
        return next(p for p in self.people.values() if p.email == email)


@pytest.fixture
def ccs(env: Any, factory: Any) -> Ccs:
    with clock.frozen(at("2009-10-01", "09:00")):
        import_people()
        import_councillors()
        admin = factory.person("Richard Performance", admin=True)
        cycle = open_cycle(admin)
        plan = add_plan(admin)
    people = registered()
    return Ccs(people, admin, people["Paul Howes"], plan, cycle)

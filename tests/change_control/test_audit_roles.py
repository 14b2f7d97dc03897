"""A refused attempt is recorded with the role the person holds on the RFC.

The audit trail says who tried what "in which role" (docs/security.md). The roles that never
make a move (sponsor of a minor change, alternate approver, a project member) only show there.
"""

from __future__ import annotations

import pytest

from services.change_control import projects


@pytest.fixture
def minor(factory, team):  # type: ignore[no-untyped-def]
    """A minor change awaiting the PM's decision: the sponsor is not its approver."""
    return factory.in_status(team, "awaiting_approval", major=False)


def refused_role(db, rfc, action: str) -> str:  # type: ignore[no-untyped-def]
    (row,) = db.audit(rfc.id, outcome="refused", action=action)
    return row.actor_role


def test_the_sponsor_deciding_a_minor_change_is_refused_as_sponsor(
    client, factory, team, db, minor
):
    r = client.post(
        f"/api/v1/rfcs/{minor.ref}/decision",
        headers=factory.auth(team.sponsor),
        json={"decision": "approve", "reason": ""},
    )
    assert r.status_code == 403, r.text
    assert refused_role(db, minor, "approve") == "sponsor"


def test_the_alternate_editing_is_refused_as_alternate(client, factory, team, db, minor):
    r = client.patch(
        f"/api/v1/rfcs/{minor.ref}",
        headers=factory.auth(team.alternate),
        json={"title": "Changed by the alternate"},
    )
    assert r.status_code == 403, r.text
    assert refused_role(db, minor, "edit") == "alternate"


def test_a_member_with_no_role_on_the_rfc_is_refused_as_other(client, factory, team, db, minor):
    member = factory.person("Another Member")
    factory.call(
        projects.add_project_member,
        actor=factory.actor(factory.admin()),
        code=team.code,
        email=member.email,
        role="Work Stream Leader",
    )
    r = client.post(
        f"/api/v1/rfcs/{minor.ref}/withdraw",
        headers=factory.auth(member),
        json={"reason": "Not mine."},
    )
    assert r.status_code == 403, r.text
    assert refused_role(db, minor, "withdraw") == "other"

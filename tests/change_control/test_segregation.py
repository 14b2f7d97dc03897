"""Segregation of duties: nobody decides their own request.

The services never name the requester as approver, so the rule in services/platform/actors.py
(`approver` is never the requester) only shows when the database does: a row edited by hand,
a migration, a bug elsewhere. The rule must hold even then, on the page and in the API.
"""

from __future__ import annotations

import re

from sqlalchemy import update

from core.db import write_session
from models.change_control import Rfc


def _requester_made_approver(factory, team):  # type: ignore[no-untyped-def]
    rfc = factory.in_status(team, "awaiting_approval", major=False)
    with write_session() as s:
        s.execute(update(Rfc).where(Rfc.id == rfc.id).values(approver_id=team.officer.id))
    return rfc


def test_the_requester_named_approver_cannot_decide_on_the_page(client, factory, team, db):
    rfc = _requester_made_approver(factory, team)
    client.cookies.set("signoff_session", factory.sign_in(team.officer))
    assert client.get(f"/rfcs/{rfc.id}/decision").status_code == 403
    page = client.get(f"/rfcs/{rfc.id}")
    assert page.status_code == 200 and f'href="/rfcs/{rfc.id}/decision"' not in page.text
    sign_out = client.get("/sign-out").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', sign_out).group(1)
    r = client.post(
        f"/rfcs/{rfc.id}/decision",
        follow_redirects=False,
        data={"decision": "approve", "reason": "", "csrf_token": token},
    )
    assert r.status_code == 403, r.text
    row = db.rfc(rfc.id)
    assert (row.status, row.decided_by_id) == ("awaiting_approval", None)
    (refused,) = db.audit(rfc.id, outcome="refused")
    assert refused.actor_id == team.officer.id


def test_the_requester_named_approver_cannot_decide_through_the_api(client, factory, team, db):
    rfc = _requester_made_approver(factory, team)
    r = client.post(
        f"/api/v1/rfcs/{rfc.ref}/decision",
        headers=factory.auth(team.officer),
        json={"decision": "approve", "reason": ""},
    )
    assert r.status_code == 403, r.text
    assert db.rfc(rfc.id).status == "awaiting_approval"

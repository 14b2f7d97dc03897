"""The link rules of services/platform/action_links.py, each against links that differ from the
right one in exactly one way (purpose, subject type, subject, person, used, revoked, expired).

Found by `make mutation`: with any one condition of these queries dropped, the rest of the
suite stayed green. What a person would see: a sign-in or approval link re-sent when one had
just gone out, someone else's link revoked, or a decision by one RFC's link revoking links
of other RFCs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from core.clock import frozen
from core.db import read_session, write_session
from models import ActionToken
from services.platform import action_links

NOW = datetime(2010, 3, 1, 10, 0, tzinfo=UTC)
SUBJECT = {"purpose": "approve_rfc", "subject_type": "rfc", "subject_id": 7}


def _issue(person_id: int, *, at: datetime = NOW, **about: object) -> int:
    what = SUBJECT | about
    with frozen(at), write_session() as s:
        return action_links.issue(
            s,
            purpose=str(what["purpose"]),
            subject_type=str(what["subject_type"]),
            subject_id=int(what["subject_id"]),  # type: ignore[call-overload]
            subject_version=1,
            person_id=person_id,
            lifetime=timedelta(days=14),
        )


def _set(link_id: int, **values: object) -> None:
    with write_session() as s:
        link = s.get(ActionToken, link_id)
        assert link is not None
        for k, v in values.items():
            setattr(link, k, v)


def _links() -> dict[int, ActionToken]:
    with read_session() as s:
        return {t.id or 0: t for t in s.exec(select(ActionToken))}


@pytest.fixture
def decoys(team):  # type: ignore[no-untyped-def]
    """The sponsor's two live links about RFC 7 (an older and a newer), and, each issued later
    than both, links that differ from them in one way."""
    me, other = team.sponsor.id, team.alternate.id
    older = _issue(me, at=NOW - timedelta(hours=2))
    newer = _issue(me, at=NOW - timedelta(hours=1))
    odd = {
        "other purpose": _issue(me, purpose="sign_in"),
        "other subject type": _issue(me, subject_type="plan_version"),
        "other subject": _issue(me, subject_id=8),
        "other person": _issue(other),
        "used": _issue(me),
        "revoked": _issue(me),
        "expired": _issue(me, at=NOW - timedelta(days=15)),
    }
    _set(odd["used"], used_at=NOW - timedelta(minutes=5))
    _set(odd["revoked"], revoked_at=NOW - timedelta(minutes=5))
    return {"me": me, "older": older, "newer": newer, "odd": odd}


def test_a_persons_newest_live_link_is_theirs_for_that_purpose_and_subject(decoys):
    with frozen(NOW), read_session() as s:
        found = action_links.newest_live(
            s, purpose="approve_rfc", subject_type="rfc", subject_id=7, person_id=decoys["me"]
        )
    assert found is not None and found.id == decoys["newer"]


def test_a_link_expiring_this_instant_is_not_live(decoys):
    with write_session() as s:
        for link_id in (decoys["older"], decoys["newer"]):
            link = s.get(ActionToken, link_id)
            assert link is not None
            link.expires_at = NOW
    with frozen(NOW), read_session() as s:
        found = action_links.newest_live(
            s, purpose="approve_rfc", subject_type="rfc", subject_id=7, person_id=decoys["me"]
        )
    assert found is None


def test_revoking_a_persons_links_leaves_every_other_link_as_it_was(decoys):
    before = _links()
    with frozen(NOW), write_session() as s:
        action_links.revoke_for_person(
            s, purpose="approve_rfc", subject_type="rfc", subject_id=7, person_id=decoys["me"]
        )
    after = _links()
    for link_id in (decoys["older"], decoys["newer"]):
        assert after[link_id].revoked_at == NOW
    for what, link_id in decoys["odd"].items():
        if what == "expired":
            continue  # revoking a dead link as well changes nothing anyone sees
        was, now = before[link_id], after[link_id]
        assert (now.revoked_at, now.used_at) == (was.revoked_at, was.used_at), what


def test_a_move_through_one_link_uses_it_and_revokes_only_the_subjects_other_live_links(decoys):
    before = _links()
    with frozen(NOW), write_session() as s:
        using = s.get(ActionToken, decoys["newer"])
        assert action_links.revoke_for_subject(
            s, purpose="approve_rfc", subject_type="rfc", subject_id=7, using=using
        )
    after = _links()
    assert (after[decoys["newer"]].used_at, after[decoys["newer"]].revoked_at) == (NOW, None)
    assert (after[decoys["older"]].used_at, after[decoys["older"]].revoked_at) == (None, NOW)
    # another person's link about the same subject goes too; nothing about anything else does
    assert after[decoys["odd"]["other person"]].revoked_at == NOW
    for what, link_id in decoys["odd"].items():
        if what in ("other person", "expired"):
            continue
        was, now = before[link_id], after[link_id]
        assert (now.revoked_at, now.used_at) == (was.revoked_at, was.used_at), what


def test_a_move_through_an_expired_link_changes_no_link(decoys):
    _set(decoys["newer"], expires_at=NOW)
    before = _links()
    with frozen(NOW), write_session() as s:
        using = s.get(ActionToken, decoys["newer"])
        assert not action_links.revoke_for_subject(
            s, purpose="approve_rfc", subject_type="rfc", subject_id=7, using=using
        )
        s.rollback()  # the caller refuses the move, so its transaction is rolled back
    assert _links() == before


def test_every_path_an_action_link_opens_keeps_its_token_out_of_the_logs():
    """A domain that registers a new link path must also have its tokens redacted in logs: the
    access log line of a mail scanner's pre-fetch would otherwise hold a working link."""
    from core import logsafe, tokens
    from services.platform import subjects

    subjects.names()  # every domain registers its link paths
    raw = tokens.derive_token(tokens.new_salt())
    for purpose in sorted(subjects._LINK_PATHS):  # noqa: SLF001 - the registry under test
        path = subjects.link_path(purpose) + raw
        line = f'127.0.0.1 - "GET {path}?utm=1 HTTP/1.1" 200; POST {path}/resend'
        assert raw not in logsafe.redact(line), purpose

"""Smaller findings of the security review: each test failed before its fix.

Reminders run for a day ahead of the clock, an impossible date in the demo file, a give-up
counted as a retry, API tokens that never expired. Real databases, SMTP server and `signoff`
processes; only the clock is frozen.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from support.factories import deliver
from support.processes import signoff as run_signoff

from core import clock

ROOT = Path(__file__).resolve().parents[2]


def at(day: str, hhmm: str = "09:00") -> datetime:
    local = datetime.fromisoformat(f"{day}T{hhmm}").replace(tzinfo=clock.local_tz())
    return local.astimezone(UTC)


def signoff(env, smtp, *args: str, code: str | None = None):  # type: ignore[no-untyped-def]
    return run_signoff(env.database_url, smtp.port, *args, code=code)


# --- reminders run for a day ahead of the clock ----------------------------------------------


def test_a_run_ahead_of_the_clock_sends_one_reminder_not_two(factory, team, smtp):
    from core.db import write_session
    from services.platform.chasing import run as send_due_reminders

    with clock.frozen(at("2010-03-01", "10:00")):
        factory.in_status(team, "impact_analysis")  # the PM's impact analysis due 8 March
    ahead = date(2010, 3, 23)  # a run (a drill, a catch-up) for a day two weeks ahead
    reports = []
    for _ in range(2):
        with clock.frozen(at("2010-03-09")), write_session() as session:
            reports.append(send_due_reminders(session, today=ahead))
    assert [(r.count("reminded"), r.count("escalated")) for r in reports] == [(1, 0), (0, 0)]
    # The next reminder counts from the day the run acted for: 5 working days after 23 March.
    with clock.frozen(at("2010-03-09")), write_session() as session:
        assert send_due_reminders(session, today=date(2010, 3, 30)).count("reminded") == 0
        assert send_due_reminders(session, today=date(2010, 3, 31)).count("reminded") == 1


# --- load-demo with an impossible date -------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_load_demo_names_an_impossible_date_and_exits_non_zero(env, smtp, db, tmp_path):
    bad = tmp_path / "demo.yaml"
    good = (ROOT / "data" / "cse_project.yaml").read_text()
    assert "  raised: 2010-02-26\n" in good
    bad.write_text(good.replace("  raised: 2010-02-26\n", "  raised: 2010-02-30\n"))
    line = bad.read_text().splitlines().index("  raised: 2010-02-30") + 1
    before = db.counts()
    done = signoff(
        env,
        smtp,
        code=(
            "import services.change_control.demo as demo, sys; from pathlib import Path; "
            "from cli.main import main; "
            f"demo.DEMO_FILE = Path({str(bad)!r}); sys.exit(main(['load-demo']))"
        ),
    )
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("error: ")
    assert (
        f"line {line}: example_rfc.raised is 2010-02-30, which is not a real date" in done.stderr
    ), done.stderr
    assert db.counts() == before  # nothing loaded
    stage = bad.read_text().replace("baseline_finish: 2010-10-01", "baseline_finish: 2010-13-01")
    bad.write_text(stage.replace("  raised: 2010-02-30\n", "  raised: 2010-02-26\n"))
    done = signoff(
        env,
        smtp,
        code=(
            "import services.change_control.demo as demo, sys; from pathlib import Path; "
            "from cli.main import main; "
            f"demo.DEMO_FILE = Path({str(bad)!r}); sys.exit(main(['load-demo']))"
        ),
    )
    assert done.returncode == 1 and "stages[1].baseline_finish is 2010-13-01" in done.stderr


# --- a give-up is a failure, not a retry ---------------------------------------------------


def test_a_give_up_is_reported_as_failed(factory, team, db, smtp, monkeypatch):
    from core.settings import reset_settings_cache

    monkeypatch.setenv("SIGNOFF_OUTBOX_MAX_ATTEMPTS", "2")
    reset_settings_cache()
    rfc = factory.in_status(team, "awaiting_approval", requester=team.manager)
    (row,) = db.outbox(rfc_id=rfc.id)
    smtp.fail_next(10, 451)
    with clock.frozen(datetime.now(UTC)):
        first = deliver()
    assert (first.retried, first.failed) == (1, 0)
    (row,) = db.outbox(rfc_id=rfc.id)
    with clock.frozen(row.next_attempt_at + timedelta(seconds=1)):
        second = deliver()
    (row,) = db.outbox(rfc_id=rfc.id)
    assert row.status == "failed" and row.last_error.startswith("gave up after 2 attempts")
    assert second.as_dict() == {"sent": 0, "retried": 0, "failed": 1, "dropped": 0}


# --- API tokens that expire ----------------------------------------------------------------


def test_api_tokens_expire_after_the_days_given(env, smtp, factory, team, client, db):
    done = signoff(
        env,
        smtp,
        "tokens",
        "create",
        "--email",
        team.officer.email,
        "--label",
        "laptop",
        "--expires-days",
        "7",
    )
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    forever = signoff(env, smtp, "tokens", "create", "--email", team.manager.email).stdout.strip()
    path, now = f"/api/v1/projects/{team.code}", datetime.now(UTC)
    for when, expected in (
        (now + timedelta(days=6, hours=23), 200),
        (now + timedelta(days=7, minutes=1), 401),
    ):
        with clock.frozen(when):
            r = client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == expected, when
            assert (
                client.get(path, headers={"Authorization": f"Bearer {forever}"}).status_code == 200
            )
    assert r.headers["www-authenticate"] == "Bearer"
    listing = json.loads(signoff(env, smtp, "tokens", "list", "--json").stdout)
    expires = {row["email"]: row["expires_at"] for row in listing}
    assert expires[team.manager.email] is None
    got = datetime.fromisoformat(expires[team.officer.email])
    assert abs(got - (now + timedelta(days=7))) < timedelta(minutes=2)
    table = signoff(env, smtp, "tokens", "list").stdout.splitlines()
    assert "EXPIRES (UTC)" in table[0]
    assert f"{got:%Y-%m-%d %H:%M}" in next(t for t in table if team.officer.email in t)
    assert "never" in next(t for t in table if team.manager.email in t)


@pytest.mark.parametrize("days", ["0", "-3", "3651", "soon"])
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tokens_create_refuses_a_bad_expiry(env, smtp, factory, db, days):
    person = factory.person()
    before = db.counts()
    done = signoff(env, smtp, "tokens", "create", "--email", person.email, "--expires-days", days)
    assert done.returncode == 2 and "days from 1 to 3650" in done.stderr
    assert db.counts() == before

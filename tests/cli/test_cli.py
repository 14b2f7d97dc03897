"""The `signoff` command line, run as a real subprocess against real databases and SMTP."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect
from support.databases import TABLES, env_vars
from support.processes import signoff

ROOT = Path(__file__).resolve().parents[2]
SIGNOFF = Path(sys.executable).parent / "signoff"


@pytest.fixture
def cli(env, smtp):  # type: ignore[no-untyped-def]
    """Run `signoff ...` on this test's database and SMTP server."""
    return lambda *args: signoff(env.database_url, smtp.port, *args)


def test_db_upgrade_on_a_new_sqlite_file(tmp_path, smtp):
    url = f"sqlite:///{tmp_path / 'new' / 'fresh.db'}"
    first = signoff(url, smtp.port, "db", "upgrade")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == "database upgraded to head"
    from core.db import make_engine

    engine = make_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
        assert set(TABLES) | {"alembic_version"} <= names
        with engine.connect() as conn:
            version = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one()
    finally:
        engine.dispose()
    from alembic.script import ScriptDirectory

    from core.migrate import alembic_config

    assert version == ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    again = signoff(url, smtp.port, "db", "upgrade")
    assert again.returncode == 0, again.stderr


def test_db_upgrade_is_idempotent(cli, db):
    before = db.snapshot()
    done = cli("db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert db.snapshot() == before


def test_users_add_and_duplicate(cli, db):
    from sqlmodel import select

    from core.db import read_session
    from models import Person

    added = cli(
        "users",
        "add",
        "--name",
        "Ada Lovelace",
        "--email",
        "Ada.Lovelace@Council.example",
        "--job-title",
        "Analyst",
        "--admin",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "added Ada Lovelace <ada.lovelace@council.example> (admin)"
    with read_session() as s:
        ada = s.exec(select(Person).where(Person.email == "ada.lovelace@council.example")).one()
    assert (ada.name, ada.is_admin, ada.job_title, ada.active) == (
        "Ada Lovelace",
        True,
        "Analyst",
        True,
    )
    before = db.counts()
    for email in ("ADA.LOVELACE@council.example",):
        again = cli("users", "add", "--name", "Someone Else", "--email", email)
        assert again.returncode != 0
        assert "already registered" in again.stderr and again.stderr.startswith("error: ")
        assert "Traceback" not in again.stderr
    assert db.counts() == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "mentions"),
    [
        (["--name", "Bad Email", "--email", "not-an-email"], "email"),
        (["--name", "Bad Email", "--email", "two@@council.example"], "email"),
        (["--name", "", "--email", "blank.name@council.example"], "name"),
        (["--name", "No Email"], "--email"),
    ],
)
def test_users_add_refuses_invalid_input(cli, db, args, mentions):
    before = db.counts()
    done = cli("users", "add", *args)
    assert done.returncode != 0
    assert mentions in done.stderr
    assert "Traceback" not in done.stderr
    assert db.counts() == before


def test_tokens_create_prints_a_token_that_works(cli, factory, team, client, db):
    done = cli("tokens", "create", "--email", team.officer.email.upper(), "--label", "laptop")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sgf_")
    assert "shown only once" in done.stderr
    token = lines[0]
    headers = {"Authorization": f"Bearer {token}"}
    r = client.get(f"/api/v1/projects/{team.code}", headers=headers)
    assert r.status_code == 200 and r.json()["code"] == team.code
    r = client.post(
        f"/api/v1/projects/{team.code}/rfcs",
        headers=headers,
        json={"title": "From the CLI token", "description": "Works."},
    )
    assert r.status_code == 201
    assert db.rfc(r.json()["id"]).requester_id == team.officer.id
    # Only the hash is kept.
    snapshot = db.snapshot()
    assert token not in repr(snapshot["api_token"])
    assert (
        client.get(
            "/api/v1/projects/" + team.code, headers={"Authorization": f"Bearer {token}x"}
        ).status_code
        == 401
    )


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_tokens_create_for_an_unknown_person(cli, db):
    before = db.counts()
    done = cli("tokens", "create", "--email", "nobody@council.example")
    assert done.returncode == 1
    assert "No person is registered" in done.stderr and done.stdout == ""
    assert db.counts() == before


def test_load_demo_twice_is_idempotent_and_outbox_deliver_sends_to_smtp(cli, db, smtp, client):
    first = cli("load-demo")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().splitlines()[0] == (
        "demo project CSE loaded (Customer Service Excellence Standard)"
    )
    snapshot = db.snapshot()
    import yaml

    demo = yaml.safe_load((ROOT / "data" / "cse_project.yaml").read_text())
    officers = set()
    for name in ("ccs_people.csv", "ccs_councillors.csv"):
        with (ROOT / "data" / name).open(newline="") as f:
            officers |= {row["email"] for row in csv.DictReader(f)}
    everyone = {p["email"] for p in demo["people"]} | officers
    assert sorted(row[1] for row in snapshot["person"]) == sorted(everyone)
    assert len(snapshot["stage"]) == len(demo["stages"])
    assert len(snapshot["rfc"]) == 1
    from sqlmodel import select

    from core.db import read_session
    from models.change_control import Rfc

    with read_session() as s:
        rfc3 = s.exec(select(Rfc)).one()
    assert (rfc3.ref, rfc3.status, rfc3.classification) == (
        "CSE-RFC-003",
        "awaiting_approval",
        "major",
    )
    second = cli("load-demo")
    assert second.returncode == 0, second.stderr
    assert db.snapshot() == snapshot

    queued = len(db.outbox())
    assert queued > 1, "the demo queues the sponsor's approval request and today's figure chases"
    sent = cli("outbox", "deliver", "--once")
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout.strip().splitlines()[-1]) == {
        "sent": queued,
        "retried": 0,
        "failed": 0,
        "dropped": 0,
    }
    assert len(smtp.messages) == queued
    (mail,) = [m for m in smtp.messages if m.subject.startswith("Approval needed")]
    assert mail.rcpt_tos == ["steve.hampson@scambs.example"]
    assert mail.subject == "Approval needed: CSE-RFC-003 (major change)"
    page = client.get(mail.link().removeprefix("http://testserver"))
    assert page.status_code == 200 and "CSE-RFC-003" in page.text
    # The service plan's four signatories still to sign get links that work today.
    asked = sorted(
        m.rcpt_tos[0] for m in smtp.messages if m.subject.startswith("Please sign: Community")
    )
    assert asked == [
        "cllr.dunn@scambs.example",
        "cllr.ellis@scambs.example",
        "cllr.fisher@scambs.example",
        "paul.howes@scambs.example",
    ]
    assert {m.status for m in db.outbox()} == {"sent"}

    again = cli("outbox", "deliver", "--once")
    assert again.returncode == 0
    assert json.loads(again.stdout.strip().splitlines()[-1]) == {
        "sent": 0,
        "retried": 0,
        "failed": 0,
        "dropped": 0,
    }
    assert len(smtp.messages) == queued


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_outbox_deliver_reports_a_refusing_relay(cli, factory, team, db, smtp):
    factory.in_status(team, "awaiting_approval", requester=team.manager)
    smtp.fail_next(1, 550)
    done = cli("outbox", "deliver", "--once")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["failed"] == 1
    (row,) = db.outbox()
    assert row.status == "failed" and row.last_error.startswith("550")
    assert smtp.messages == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unknown_command_exits_non_zero(cli):
    done = cli("frobnicate")
    assert done.returncode == 2 and "invalid choice" in done.stderr


# --- users list / update, tokens list / revoke ----------------------------------------------


def test_users_list_as_table_and_json(cli, factory):
    admin = factory.person("Grace Hopper", admin=True)
    officer = factory.person("Alan Turing")
    table = cli("users", "list")
    assert table.returncode == 0, table.stderr
    header, *lines = table.stdout.splitlines()
    assert header.split() == ["ID", "EMAIL", "NAME", "JOB", "TITLE", "ADMIN", "ACTIVE"]
    assert [line.split()[:2] for line in lines] == [
        [str(admin.id), admin.email],
        [str(officer.id), officer.email],
    ]
    assert lines[0].split()[-2:] == ["yes", "yes"] and lines[1].split()[-2:] == ["no", "yes"]
    listed = json.loads(cli("users", "list", "--json").stdout)
    assert [(p["id"], p["email"], p["name"], p["is_admin"], p["active"]) for p in listed] == [
        (admin.id, admin.email, "Grace Hopper", True, True),
        (officer.id, officer.email, "Alan Turing", False, True),
    ]


def test_users_update(cli, factory, db):
    from core.db import read_session
    from models import Person

    person = factory.person("Ada Byron")
    done = cli(
        "users",
        "update",
        "--email",
        person.email.upper(),
        "--name",
        "Ada Lovelace",
        "--job-title",
        "Analyst",
        "--admin",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"updated Ada Lovelace <{person.email}> (admin), Analyst"
    with read_session() as s:
        row = s.get(Person, person.id)
    assert (row.name, row.job_title, row.is_admin, row.email) == (
        "Ada Lovelace",
        "Analyst",
        True,
        person.email,
    )
    done = cli("users", "update", "--email", person.email, "--no-admin", "--job-title", "")
    assert done.returncode == 0, done.stderr
    with read_session() as s:
        row = s.get(Person, person.id)
    assert (row.name, row.job_title, row.is_admin) == ("Ada Lovelace", "", False)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--email", "nobody@council.example", "--name", "X"], 1, "No person is registered"),
        (["--email", "{email}"], 1, "Nothing was changed"),
        (["--email", "{email}", "--name", "Officer"], 1, "Nothing was changed"),
        (["--email", "{email}", "--name", "   "], 2, "name"),
        (["--email", "{email}", "--name", "Two\nLines"], 2, "name"),
        (["--email", "{email}", "--job-title", "J" * 121], 2, "job_title"),
        (["--name", "No Email"], 2, "--email"),
        (["--email", "{email}", "--admin", "--no-admin", "--bogus"], 2, "unrecognized"),
    ],
)
def test_users_update_refuses_bad_input(cli, factory, db, args, code, says):
    person = factory.person("Officer")
    before = db.snapshot()
    done = cli("users", "update", *[a.format(email=person.email) for a in args])
    assert done.returncode == code, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert db.snapshot() == before


def test_tokens_list_and_revoke(cli, factory, team, client, db):
    laptop = cli("tokens", "create", "--email", team.officer.email, "--label", "laptop")
    server = cli("tokens", "create", "--email", team.manager.email, "--label", "build server")
    tokens = [laptop.stdout.strip(), server.stdout.strip()]
    listing = cli("tokens", "list")
    assert listing.returncode == 0, listing.stderr
    header, *lines = listing.stdout.splitlines()
    assert header.split() == [
        "ID",
        "EMAIL",
        "LABEL",
        "CREATED",
        "(UTC)",
        "EXPIRES",
        "(UTC)",
        "REVOKED",
        "(UTC)",
    ]
    assert [line.split()[1:3] for line in lines] == [
        [team.officer.email, "laptop"],
        [team.manager.email, "build"],
    ]
    hashes = [row[2] for row in db.snapshot()["api_token"]]
    for secret in tokens + hashes:  # neither the token nor its hash is ever shown
        assert secret not in listing.stdout
    mine = json.loads(cli("tokens", "list", "--email", team.officer.email, "--json").stdout)
    assert [(t["email"], t["label"], t["revoked_at"]) for t in mine] == [
        (team.officer.email, "laptop", None)
    ]

    revoked = cli("tokens", "revoke", str(mine[0]["id"]))
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == (
        f"revoked API token {mine[0]['id']} of {team.officer.email} (laptop)"
    )
    path = f"/api/v1/projects/{team.code}"
    assert client.get(path, headers={"Authorization": f"Bearer {tokens[0]}"}).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {tokens[1]}"}).status_code == 200
    after = json.loads(cli("tokens", "list", "--json").stdout)
    assert [t["revoked_at"] is not None for t in after] == [True, False]

    before = db.snapshot()
    again = cli("tokens", "revoke", str(mine[0]["id"]))
    assert again.returncode == 1 and "already revoked" in again.stderr
    assert db.snapshot() == before


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["revoke", "999999"], 1, "There is no API token with id 999999"),
        (["revoke", "0"], 2, "not a token id"),
        (["revoke", "-1"], 2, "not a token id"),
        (["revoke", "abc"], 2, "not a token id"),
        (["revoke", "1 OR 1=1"], 2, "not a token id"),
        (["revoke", str(2**31)], 2, "not a token id"),
        (["revoke"], 2, "id"),
        (["list", "--email", "nobody@council.example"], 1, "No person is registered"),
    ],
)
def test_tokens_refuse_bad_input(cli, factory, db, args, code, says):
    person = factory.person()
    factory.api_token(person)
    before = db.snapshot()
    done = cli("tokens", *args)
    assert done.returncode == code, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr
    assert db.snapshot() == before


def test_every_command_and_option_has_help():
    import argparse

    from cli.main import build_parser

    def walk(parser: argparse.ArgumentParser, path: str):  # type: ignore[no-untyped-def]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helped = {a.dest for a in action._choices_actions if a.help}
                assert helped == set(action.choices), f"{path}: commands without help"
                for name, sub in action.choices.items():
                    yield from walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction):
                yield path, action

    options = list(walk(build_parser(), "signoff"))
    assert len(options) > 20
    for path, action in options:
        assert action.help, f"{path} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_people_and_token_commands_import_little(env):
    """`signoff users/tokens ...` must start fast: no web app, Prefect, email or PostgreSQL."""
    heavy = [
        "prefect",
        "fastapi",
        "starlette",
        "uvicorn",
        "jinja2",
        "aiosmtplib",
        "alembic",
        "services.platform.outbox",
        "services.platform.action_links",
        "sqlalchemy.dialects.postgresql",
    ]
    for args in (
        ["users", "list"],
        ["tokens", "list"],
        ["users", "add", "--name", "Quick", "--email", "quick@council.example"],
    ):
        code = (
            "import json, sys\nfrom cli.main import main\nmain(sys.argv[1:])\n"
            "print(json.dumps(sorted(sys.modules)))"
        )
        environment = {k: v for k, v in os.environ.items() if not k.startswith("SIGNOFF_")}
        environment |= env_vars(env.database_url, 1025)
        done = subprocess.run(
            [sys.executable, "-c", code, *args],
            env=environment,
            cwd=ROOT,  # noqa: S603
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        loaded = set(json.loads(done.stdout.splitlines()[-1]))
        assert [m for m in heavy if m in loaded] == [], args

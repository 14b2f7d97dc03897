"""`signoff scorecards …`, `signoff performance chase` and `signoff users import`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _scorecards_import(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.performance import imports
    from services.platform import tabular
    from services.platform.errors import ServiceError

    try:
        rows = tabular.read(args.path)
        with write_session() as session:
            report = imports.import_scorecard(
                session,
                rows=rows,
                code=args.code,
                period=args.period,
                actor_id=None,
                filename=args.path,
                portfolio=args.portfolio,
            )
    except ServiceError as exc:
        return _fail(exc.message)
    print(
        f"{report.scorecard}: {report.created} measures created, {report.updated} updated, "
        f"{report.figures} figures as at {report.period}"
    )
    for name in report.unknown:
        print(f"unknown officer: {name} (register them, then import again)")
    for name, like in report.resembling.items():
        print(
            f"check: {name} looks like {', '.join(like)}; if it is the same person, run "
            f"signoff scorecards alias {json.dumps(name)} --email <their address>"
        )
    return 0


def _scorecards_alias(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.performance import imports, officers
    from services.platform.errors import ServiceError
    from services.platform.people import find_by_email

    try:
        with write_session() as session:
            person = find_by_email(session, args.email)
            if person is None:
                return _fail(f"no person is registered with {args.email}")
            officers.confirm_alias(session, name=args.name, person_id=person.id or 0, by_id=None)
            changed = imports.assign_officers(session)
    except ServiceError as exc:
        return _fail(exc.message)
    print(f"{args.name} is {person.name} <{person.email}>: {changed} measure officer(s) matched")
    return 0


def _users_import(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.performance import imports
    from services.platform import people_import, tabular
    from services.platform.errors import ServiceError

    try:
        rows = tabular.read(args.path)
        with write_session() as session:
            report = people_import.import_people(session, rows=rows, filename=args.path)
            matched = imports.assign_officers(session)
    except ServiceError as exc:
        return _fail(exc.message)
    print(
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{report.managers_set} line managers set, {matched} measure officer(s) matched"
    )
    return 0


def _performance_chase(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.performance import chasing

    with write_session() as session:
        report = chasing.run_day(session, today=args.today)
        lines = report.chase.lines() if report.chase else []
    print(json.dumps(report.as_dict()))
    for line in lines:
        print(line)
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def add_parsers(sub: Any) -> None:
    cards = sub.add_parser("scorecards", help="performance scorecards").add_subparsers(
        dest="scorecards_command", required=True
    )
    imp = cards.add_parser("import", help="create or update a scorecard from a CSV or XLSX file")
    imp.add_argument("path", help="the file, with the columns of data/scorecard_ccs_2009-10_q3.csv")
    imp.add_argument("--code", required=True, help="the scorecard's code, e.g. CCS-0910")
    imp.add_argument(
        "--period",
        required=True,
        help="the period the file's figures are for, YYYY-MM (its last month)",
    )
    imp.add_argument("--portfolio", help="the Portfolio Holder's portfolio it reports to")
    imp.set_defaults(func=_scorecards_import)
    alias = cards.add_parser("alias", help="confirm that a name in a file is a registered person")
    alias.add_argument("name", help="the name as the file spells it, e.g. 'Phil Aldis'")
    alias.add_argument("--email", required=True, help="the registered person's email address")
    alias.set_defaults(func=_scorecards_alias)

    perf = sub.add_parser("performance", help="performance figures").add_subparsers(
        dest="performance_command", required=True
    )
    chase = perf.add_parser("chase", help="do one day's chase of late figures (as the flow does)")
    chase.add_argument("--today", type=_day, help="the day to act as (YYYY-MM-DD); default today")
    chase.set_defaults(func=_performance_chase)


def add_users_import(users: Any) -> None:
    imp = users.add_parser("import", help="register people and their line managers from a file")
    imp.add_argument("path", help="CSV or XLSX with columns name, email, job_title, manager_email")
    imp.set_defaults(func=_users_import)

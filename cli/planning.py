"""`signoff planning run`: one day's work of the planning calendar, as the flow does it."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any


def _planning_run(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.planning import calendar

    # As `signoff performance chase`: the day's emails are queued here and sent by the outbox
    # deliverer (deliver-outbox, nudged when this commits, or `signoff outbox deliver`).
    with write_session() as session:
        report = calendar.run_day(session, today=args.today)
        lines = report.lines()
        summary = report.as_dict()
    print(json.dumps(summary))
    for line in lines:
        print(line)
    return 0


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None
    if not 2000 <= day.year <= 2100:  # as a cycle's year: no planning calendar outside it
        raise argparse.ArgumentTypeError(f"{text!r} is not a day from 2000 to 2100")
    return day


def add_parsers(sub: Any) -> None:
    planning = sub.add_parser("planning", help="the service-planning cycle").add_subparsers(
        dest="planning_command", required=True
    )
    run = planning.add_parser(
        "run",
        help="do one day's work of the planning calendar (as the planning-cycle flow does): "
        "kick-off, reminders, chases, the weekly summary, PP4",
    )
    run.add_argument("--today", type=_day, help="the day to act as (YYYY-MM-DD); default today")
    run.set_defaults(func=_planning_run)

"""The `signoff` command line.

Every command imports what it needs when it runs: `signoff users ...` must not pay for the web
app, Prefect or email delivery (measured: 1.7 s before, see README).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any


def _db_upgrade(args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    upgrade(revision=args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def _users_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.db import write_session
    from models.people import PersonCreate
    from services.platform import people
    from services.platform.errors import ServiceError

    try:
        data = PersonCreate(
            name=args.name, email=args.email, job_title=args.job_title, is_admin=args.admin
        )
        with write_session() as session:
            person = people.add_person(session, data=data)
            print(f"added {person.name} <{person.email}>{' (admin)' if person.is_admin else ''}")
            for other in people.namesakes(session, name=person.name, exclude_id=person.id):
                print(
                    f"warning: {other.name} <{other.email}> is already registered with a "
                    "name that looks the same: check these are two people",
                    file=sys.stderr,
                )
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _print_table(header: Sequence[str], rows: list[Sequence[str]]) -> None:
    widths = [max(len(str(v)) for v in column) for column in zip(header, *rows, strict=True)]
    for row in [header, *rows]:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


def _users_list(args: argparse.Namespace) -> int:
    from core.db import read_session
    from services.platform import people

    with read_session() as session:
        rows = people.list_people(session)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": p.id,
                        "name": p.name,
                        "email": p.email,
                        "job_title": p.job_title,
                        "is_admin": p.is_admin,
                        "active": p.active,
                        "created_at": p.created_at.isoformat(),
                    }
                    for p in rows
                ],
                indent=2,
            )
        )
        return 0
    _print_table(
        ["ID", "EMAIL", "NAME", "JOB TITLE", "ADMIN", "ACTIVE"],
        [
            [
                str(p.id),
                p.email,
                p.name,
                p.job_title,
                "yes" if p.is_admin else "no",
                "yes" if p.active else "no",
            ]
            for p in rows
        ],
    )
    return 0


def _users_update(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.db import write_session
    from models.people import PersonUpdate
    from services.platform import people
    from services.platform.errors import ServiceError

    try:
        data = PersonUpdate(name=args.name, job_title=args.job_title, is_admin=args.admin)
        with write_session() as session:
            person = people.update_person(session, email=args.email, data=data)
            print(
                f"updated {person.name} <{person.email}>"
                f"{' (admin)' if person.is_admin else ''}"
                f"{f', {person.job_title}' if person.job_title else ''}"
            )
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    from core.db import read_session
    from services.platform import people
    from services.platform.errors import ServiceError

    try:
        with read_session() as session:
            rows = people.list_api_tokens(session, email=args.email)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": t.id,
                        "email": p.email,
                        "name": p.name,
                        "label": t.label,
                        "created_at": t.created_at.isoformat(),
                        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                        "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                    }
                    for t, p in rows
                ],
                indent=2,
            )
        )
        return 0
    _print_table(
        ["ID", "EMAIL", "LABEL", "CREATED (UTC)", "EXPIRES (UTC)", "REVOKED (UTC)"],
        [
            [
                str(t.id),
                p.email,
                t.label,
                _when(t.created_at),
                _when(t.expires_at) or "never",
                _when(t.revoked_at),
            ]
            for t, p in rows
        ],
    )
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.platform import people
    from services.platform.errors import ServiceError

    try:
        with write_session() as session:
            token, person = people.revoke_api_token(session, token_id=args.id)
            print(
                f"revoked API token {token.id} of {person.email}"
                f"{f' ({token.label})' if token.label else ''}"
            )
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.platform import people
    from services.platform.errors import ServiceError

    try:
        with write_session() as session:
            raw = people.create_api_token(
                session, email=args.email, label=args.label, expires_days=args.expires_days
            )
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(raw)
    print("Keep this token safe: it is shown only once.", file=sys.stderr)
    return 0


def _web(args: argparse.Namespace) -> int:
    import uvicorn

    from core.logsafe import uvicorn_log_config
    from core.settings import get_settings

    # X-Forwarded-For and -Proto are believed only from the configured proxies (none by
    # default): otherwise anyone could choose the address the audit trail records.
    proxies = get_settings().trusted_proxies.strip()
    uvicorn.run(
        "api.main:app",
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_config=uvicorn_log_config("info"),
        log_level="info",
    )
    return 0


def _outbox_deliver(args: argparse.Namespace) -> int:
    import asyncio

    from services.platform.delivery import deliver_due

    while True:
        report = asyncio.run(deliver_due())
        print(json.dumps(report.as_dict()))
        if args.once:
            return 0
        import time

        time.sleep(args.interval)


def _load_demo(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.change_control.demo import DemoDataError, load_demo

    try:
        with write_session() as session:
            project = load_demo(session)
            print(f"demo project {project.code} loaded ({project.name})")
        from services.performance.demo import load_demo as load_performance_demo

        print(load_performance_demo())
        from services.planning.demo import load_demo as load_planning_demo

        print(load_planning_demo())
    except DemoDataError as exc:  # nothing was loaded: the transaction rolled back
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from core.db import read_session
    from services.platform.audit import verify_chain

    with read_session() as session:
        result = verify_chain(session)
    if not result.intact:
        print(
            f"audit chain broken at event {result.broken_id} (event {result.events} in id "
            f"order): {result.problem}",
            file=sys.stderr,
        )
        return 1
    print(f"{result.events} events, chain intact")
    print(
        f"last row_hash {result.last_hash} (keep it elsewhere: it shows rows removed from the end)"
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from cli.demo import run_demo

    return run_demo(host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="signoff",
        description="Signoff: council change control and performance figures.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade", help="apply Alembic migrations to SIGNOFF_DATABASE_URL")
    up.add_argument(
        "revision",
        nargs="?",
        default="head",
        help="the revision to upgrade to (default: head, the newest)",
    )
    up.set_defaults(func=_db_upgrade)

    _users_parser(sub)
    _tokens_parser(sub)

    web = sub.add_parser("web", help="serve the web app and API")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on")
    web.add_argument("--port", type=int, default=8000, help="port to listen on")
    web.add_argument("--workers", type=int, default=1, help="number of worker processes")
    web.set_defaults(func=_web)

    ob = sub.add_parser("outbox", help="email outbox").add_subparsers(
        dest="outbox_command", required=True
    )
    deliver = ob.add_parser("deliver", help="send queued email")
    deliver.add_argument("--once", action="store_true", help="one pass, then exit")
    deliver.add_argument(
        "--interval", type=float, default=10.0, help="seconds between passes (default 10)"
    )
    deliver.set_defaults(func=_outbox_deliver)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser(
        "verify", help="check the audit trail's hash chain, oldest event first"
    ).set_defaults(func=_audit_verify)

    from cli.performance import add_parsers as add_performance_parsers

    add_performance_parsers(sub)
    from cli.planning import add_parsers as add_planning_parsers

    add_planning_parsers(sub)
    sub.add_parser(
        "load-demo",
        help="load the CSE demo project, the CCS scorecard and the CCS service plan 2010/11",
    ).set_defaults(func=_load_demo)

    demo = sub.add_parser("demo", help="run the whole demo on embedded defaults")
    demo.add_argument("--host", default="127.0.0.1", help="address the web app listens on")
    demo.add_argument("--port", type=int, default=8000, help="port the web app listens on")
    demo.set_defaults(func=_demo)
    return parser


def _users_parser(sub: Any) -> None:
    users = sub.add_parser("users", help="people who use Signoff").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="register a person")
    add.add_argument("--name", required=True, help="full name, as shown in histories")
    add.add_argument("--email", required=True, help="email address: their identity and sign-in")
    add.add_argument("--job-title", default="", help="job title (optional)")
    add.add_argument(
        "--admin", action="store_true", help="make them an administrator (may register projects)"
    )
    add.set_defaults(func=_users_add)

    from cli.performance import add_users_import

    add_users_import(users)

    listing = users.add_parser("list", help="list everyone registered")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=_users_list)

    update = users.add_parser("update", help="change a person's name, job title or admin flag")
    update.add_argument("--email", required=True, help="the email address of the person to change")
    update.add_argument("--name", help="new full name")
    update.add_argument("--job-title", help="new job title ('' clears it)")
    update.add_argument(
        "--admin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="make them an administrator (--admin) or not (--no-admin)",
    )
    update.set_defaults(func=_users_update)


def _positive_id(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 2**31 - 1:
        raise argparse.ArgumentTypeError(f"not a token id: {text!r}")
    return int(text)


def _days(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 3650:
        raise argparse.ArgumentTypeError(f"not a number of days from 1 to 3650: {text!r}")
    return int(text)


def _tokens_parser(sub: Any) -> None:
    toks = sub.add_parser("tokens", help="personal API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    create = toks.add_parser("create", help="create a personal API token (printed once)")
    create.add_argument("--email", required=True, help="the email address of its owner")
    create.add_argument("--label", default="", help="what it is for, e.g. the machine using it")
    create.add_argument(
        "--expires-days",
        type=_days,
        default=None,
        metavar="N",
        help="stop working after N days (1 to 3650; default: until revoked)",
    )
    create.set_defaults(func=_tokens_create)

    listing = toks.add_parser(
        "list",
        help="list API tokens: id, owner, label, created, expires, revoked (never the token)",
    )
    listing.add_argument("--email", help="only this person's tokens")
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=_tokens_list)

    revoke = toks.add_parser("revoke", help="stop an API token working (it stays listed)")
    revoke.add_argument("id", type=_positive_id, help="the token's id, from `tokens list`")
    revoke.set_defaults(func=_tokens_revoke)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())

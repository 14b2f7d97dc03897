"""The `signoff` command line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Sequence


def _db_upgrade(args: argparse.Namespace) -> int:
    from core.migrate import upgrade

    upgrade(revision=args.revision)
    print(f"database upgraded to {args.revision}")
    return 0


def _users_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from core.db import write_session
    from models.people import PersonCreate
    from services import people
    from services.errors import ServiceError

    try:
        data = PersonCreate(name=args.name, email=args.email, job_title=args.job_title,
                            is_admin=args.admin)
        with write_session() as session:
            person = people.add_person(session, data=data)
            print(f"added {person.name} <{person.email}>{' (admin)' if person.is_admin else ''}")
    except ValidationError as exc:
        print(f"error: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services import people
    from services.errors import ServiceError

    try:
        with write_session() as session:
            raw = people.create_api_token(session, email=args.email, label=args.label)
    except ServiceError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(raw)
    print("Keep this token safe: it is shown only once.", file=sys.stderr)
    return 0


def _web(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run("api.main:app", host=args.host, port=args.port, workers=args.workers,
                proxy_headers=True, log_level="info")
    return 0


def _outbox_deliver(args: argparse.Namespace) -> int:
    from services.delivery import deliver_due

    while True:
        report = asyncio.run(deliver_due())
        print(json.dumps(report.as_dict()))
        if args.once:
            return 0
        import time

        time.sleep(args.interval)


def _load_demo(args: argparse.Namespace) -> int:
    from core.db import write_session
    from services.demo import load_demo

    with write_session() as session:
        project = load_demo(session)
        print(f"demo project {project.code} loaded ({project.name})")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from core.demo_runner import run_demo

    return run_demo(host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signoff", description="Signoff: council change control.")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db_command",
                                                                     required=True)
    up = db.add_parser("upgrade", help="apply Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)

    users = sub.add_parser("users", help="people").add_subparsers(dest="users_command",
                                                                  required=True)
    add = users.add_parser("add", help="register a person")
    add.add_argument("--name", required=True)
    add.add_argument("--email", required=True)
    add.add_argument("--job-title", default="")
    add.add_argument("--admin", action="store_true")
    add.set_defaults(func=_users_add)

    toks = sub.add_parser("tokens", help="API tokens").add_subparsers(dest="tokens_command",
                                                                      required=True)
    create = toks.add_parser("create", help="create a personal API token (printed once)")
    create.add_argument("--email", required=True)
    create.add_argument("--label", default="")
    create.set_defaults(func=_tokens_create)

    web = sub.add_parser("web", help="serve the web app and API")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--workers", type=int, default=1)
    web.set_defaults(func=_web)

    ob = sub.add_parser("outbox", help="email outbox").add_subparsers(dest="outbox_command",
                                                                      required=True)
    deliver = ob.add_parser("deliver", help="send queued email")
    deliver.add_argument("--once", action="store_true", help="one pass, then exit")
    deliver.add_argument("--interval", type=float, default=10.0, help="seconds between passes")
    deliver.set_defaults(func=_outbox_deliver)

    sub.add_parser("load-demo", help="load the CSE demo project").set_defaults(func=_load_demo)

    demo = sub.add_parser("demo", help="run the whole demo on embedded defaults")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())

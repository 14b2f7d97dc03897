"""Nothing that waits on the database runs on the event loop (api/pages/forms.py).

A route run on the event loop holds up every other person's request while it works, and one
that waits there for the database (a writer queued behind another process's transaction)
holds them all up for as long as it waits. Routes are plain `def`s, run on worker threads;
a form is read by a dependency before the route runs.
"""

from __future__ import annotations

import inspect
import sqlite3
import threading
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.platform.errors import ServiceError
from tests.support.pages import csrf_token_of

# The only coroutines among the routes: each awaits only what does not block.
ON_THE_LOOP = {
    "sign_in",  # waits out its floor time with asyncio.sleep; its write goes to a thread
    "api_docs",  # renders a template, touches nothing else
}


def test_every_route_that_may_touch_the_database_runs_on_a_worker_thread(app):
    routes = [
        context.original_route
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
    ]
    assert len(routes) > 90  # every router's routes, not only the app's own
    on_loop = sorted(
        f"{sorted(route.methods)} {route.path}: {route.endpoint.__name__}"
        for route in routes
        if inspect.iscoroutinefunction(route.endpoint)
        and route.endpoint.__name__ not in ON_THE_LOOP
    )
    assert on_loop == [], "routes that would run on the event loop"
    assert {r.endpoint.__name__ for r in routes} >= ON_THE_LOOP  # no stale exceptions


@pytest.mark.parametrize(
    "error", [ServiceError, Exception, StarletteHTTPException, RequestValidationError]
)
def test_the_error_pages_run_on_a_worker_thread(app, error):
    """An error page looks up who is signed in (for the menu) and a refusal is audited: both
    read or write the database."""
    handler = app.exception_handlers[error]
    assert not inspect.iscoroutinefunction(handler), handler


def test_a_page_is_served_while_a_form_waits_for_the_database(client, factory, team, env):
    if not env.database_url.startswith("sqlite"):
        pytest.skip("the wait here is SQLite's write lock, held by another connection")
    from core.db import _queue_for, get_engine

    client.cookies.set("signoff_session", factory.sign_in(team.manager))
    token = csrf_token_of(client, "/sign-out")
    holder = sqlite3.connect(env.database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing: the sign-out must wait
    answers: dict[str, Any] = {}

    def sign_out() -> None:
        answers["post"] = client.post(
            "/sign-out", data={"csrf_token": token}, follow_redirects=False
        )

    def read_page() -> None:
        answers["get"] = client.get("/rfcs")

    posting = threading.Thread(target=sign_out)
    reading = threading.Thread(target=read_page)
    try:
        posting.start()
        writers = _queue_for(get_engine())
        assert writers is not None
        # The sign-out has taken its turn to write, so it is at (or about to reach) the lock.
        while writers._owner is None and posting.is_alive():
            threading.Event().wait(0.01)
        assert posting.is_alive(), answers.get("post")
        reading.start()
        reading.join(timeout=10)
        served_while_waiting = not reading.is_alive() and posting.is_alive()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        posting.join(timeout=30)
        reading.join(timeout=30)
    assert served_while_waiting, "the page waited for the sign-out's database write"
    assert answers["get"].status_code == 200 and "My RFCs" in answers["get"].text
    assert answers["post"].status_code == 303, answers["post"].text[:300]
    assert client.get("/rfcs", follow_redirects=False).status_code in (302, 303)

"""The Jinja environment (core/templating.py): its template class's faster answer at each
`{% import %}`, and the layout's kept GOV.UK fragments, render exactly what Jinja renders
without them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import DictLoader, Environment, Template
from markupsafe import Markup

from api.rendering import menu
from core.templating import Fragments, _Template, environment

CONTEXT: dict[str, Any] = {
    "request": SimpleNamespace(url=SimpleNamespace(path="/approvals/x"), cookies={}, scope={}),
    "person": None,
    "cspNonce": "nonce",
    "csrf_token": "token",
    "errors": {"reason": "Enter the reason for rejecting the change"},
    "error_list": [{"text": "Enter the reason for rejecting the change", "href": "#reason"}],
    "form": {},
    "title": "CSE-RFC-003 approved",
    "flash": "Done",
    "ref": "CSE-RFC-003",
    "status": "approved",
    "message": "There is no project with code ZZZ.",
    "nav": [{"href": "/sign-in", "text": "Sign in", "current": False, "active": False}],
}


def test_pages_render_byte_for_byte_as_with_jinjas_own_template(env: Any) -> None:
    ours = environment()
    plain = ours.overlay()
    plain.template_class = Template
    assert ours.template_class is _Template
    for name in ("pages/change_control/approval_done.html", "pages/error.html"):
        page = ours.get_template(name).render(CONTEXT)
        assert type(plain.get_template(name)) is Template
        assert page == plain.get_template(name).render(CONTEXT)
        assert "govuk-header" in page or "govuk-service-navigation" in page  # the layout came


def test_an_import_still_sees_the_importers_own_globals(env: Any) -> None:
    """Jinja gives an imported template the importing template's globals it lacks; that case
    is left to Jinja, and comes out as Jinja makes it."""
    templates = {
        "macros.html": "{% macro hello() %}Hello {{ who }}{% endmacro %}",
        "page.html": "{% from 'macros.html' import hello %}{{ hello() }}",
    }
    for template_class in (_Template, Template):
        jinja = Environment(loader=DictLoader(templates), autoescape=True)
        jinja.template_class = template_class
        page = jinja.get_template("page.html", globals={"who": "Steve Hampson"})
        assert page.render() == "Hello Steve Hampson"
        assert jinja.get_template("macros.html").render() == ""  # and its cached module stays


def _direct(macro: Any, params: Any) -> Markup:
    return Markup(macro(params))  # noqa: S704 - a macro's output, as the layout had it


PEOPLE = {
    "nobody": None,
    "officer": SimpleNamespace(name="Ian Salter", is_admin=False),
    "admin": SimpleNamespace(name="Emma George", is_admin=True),
}


@pytest.mark.parametrize("order", ["forwards", "backwards"])
def test_kept_fragments_render_each_persons_menu_as_the_macros_do(env: Any, order: str) -> None:
    """The layout's menu differs by who is signed in and where they are; a kept fragment
    never shows one person's menu to another, in whatever order pages are rendered."""
    ours = environment()
    plain = ours.overlay()
    plain.globals = {**ours.globals, "fragment": _direct}
    cases = [
        (who, path, section)
        for who in PEOPLE
        for path, section in (("/rfcs", None), ("/projects/CSE", "/projects"), ("/x", None))
    ]
    if order == "backwards":
        cases.reverse()
    seen = set()
    for who, path, section in cases:
        context = {
            **CONTEXT,
            "person": PEOPLE[who],
            "section": section,
            "request": SimpleNamespace(url=SimpleNamespace(path=path), cookies={}, scope={}),
            "nav": menu(path, PEOPLE[who], section),  # type: ignore[arg-type]
        }
        for name in ("pages/change_control/approval_done.html", "pages/error.html"):
            page = ours.get_template(name).render(context)
            assert page == plain.get_template(name).render(context), (who, path, name)
            seen.add(page)
            assert ("All RFCs" in page) == (who == "admin")
            assert ("Sign out" in page) == (who != "nobody")
    # two templates; three menus each for the signed in (on /rfcs, in a project, elsewhere),
    # one for nobody signed in (whose menu has only "Sign in")
    assert len(seen) == 2 * (3 + 3 + 1)


def test_a_fragment_is_kept_by_every_difference_the_macro_can_render() -> None:
    """Markup is not escaped where str is; True and 1, a list and a tuple print differently.
    Each is its own fragment; params that cannot be keyed call the macro every time."""
    calls: list[Any] = []

    def macro(params: Any) -> str:
        calls.append(params)
        return f"<b>{params!r}</b>"

    fragment = Fragments()
    variants = [
        {"text": "<i>"},
        {"text": Markup("<i>")},
        {"current": True},
        {"current": 1},
        {"items": [1]},
        {"items": (1,)},
        {"a": 1, "b": 2},
        {"b": 2, "a": 1},
    ]
    first = [fragment(macro, v) for v in variants]
    assert len(calls) == len(variants)  # none was taken for another
    assert [fragment(macro, v) for v in variants] == first
    assert len(calls) == len(variants)  # and each was kept
    assert isinstance(first[0], Markup)
    odd = {"when": object()}
    fragment(macro, odd)
    fragment(macro, odd)
    assert len(calls) == len(variants) + 2  # not keyable: called every time


def test_fragments_keep_at_most_their_size_dropping_the_oldest() -> None:
    calls: list[int] = []

    def macro(params: Any) -> str:
        calls.append(params["n"])
        return str(params["n"])

    fragment = Fragments(size=3)
    for n in range(5):
        fragment(macro, {"n": n})
    assert len(fragment._kept) == 3
    fragment(macro, {"n": 4})
    fragment(macro, {"n": 0})
    assert calls == [0, 1, 2, 3, 4, 0]  # 4 was kept, 0 had been dropped


def test_a_reloaded_template_makes_new_fragments_not_stale_ones() -> None:
    """In development templates reload when edited; their macros are new objects."""
    fragment = Fragments()
    templates = {"m.html": "{% macro m(p) %}old {{ p.x }}{% endmacro %}"}
    jinja = Environment(loader=DictLoader(templates), autoescape=True)
    old = jinja.get_template("m.html").module.m  # type: ignore[attr-defined]
    assert fragment(old, {"x": 1}) == "old 1"
    templates["m.html"] = "{% macro m(p) %}new {{ p.x }}{% endmacro %}"
    jinja.cache.clear()  # type: ignore[union-attr]
    new = jinja.get_template("m.html").module.m  # type: ignore[attr-defined]
    assert fragment(new, {"x": 1}) == "new 1"


def test_fragments_stay_within_their_size_when_pages_render_on_many_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    fragment = Fragments(size=8)

    def render(n: int) -> str:
        return str(fragment(lambda p: f"item {p['n']}", {"n": n % 50}))

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(render, range(20_000)))
    assert pages == [f"item {n % 50}" for n in range(20_000)]
    assert len(fragment._kept) <= 8

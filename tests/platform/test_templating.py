"""The Jinja environment's template class (core/templating.py): its faster answer at each
`{% import %}` renders exactly what Jinja's own Template renders."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from jinja2 import DictLoader, Environment, Template

from core.templating import _Template, environment

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

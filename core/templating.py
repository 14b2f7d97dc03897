"""The one Jinja environment, for pages and emails (HTML autoescaped, text not)."""

from __future__ import annotations

import threading
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    Template,
    select_autoescape,
)
from markupsafe import Markup, escape

from core.settings import ROOT, get_settings


def money(pence: int | None) -> str:
    if pence is None:
        return ""
    return f"£{pence // 100:,}.{pence % 100:02d}"


def long_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return _long_datetime(value, get_settings().timezone)
    return f"{value.day} {value:%B %Y}"


def paragraphs(text: str | None) -> Markup:
    """Free text as the officer typed it: blank lines start paragraphs, line breaks are kept.

    Everything the officer wrote is escaped; only the <p> and <br> added here are markup.
    """
    blocks = [b.strip("\n") for b in (text or "").replace("\r\n", "\n").split("\n\n")]
    html = (
        '<p class="govuk-body">' + "<br>".join(str(escape(line)) for line in b.split("\n")) + "</p>"
        for b in blocks
        if b.strip()
    )
    return Markup("".join(html))  # noqa: S704 - every piece of user text above is escaped


def number(value: float | int | None) -> str:
    """20.0 as "20", 2.5 as "2.5": how people write a number of days."""
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)


def select_items(values: list[str], chosen: str, any_text: str) -> list[dict[str, object]]:
    """Options for a GOV.UK select: "any" first, then each value with a readable label."""
    items: list[dict[str, object]] = [{"value": "", "text": any_text, "selected": not chosen}]
    return items + [
        {
            "value": str(v),
            "text": str(v).replace("_", " ").capitalize(),
            "selected": str(v) == chosen,
        }
        for v in values
    ]


def email_name(template: str) -> str:
    """An email template's name as the outbox page shows it: "rfc_decided" is "RFC decided",
    "performance/figures_late_summary" is "Figures late summary"."""
    words = template.rsplit("/", 1)[-1].replace("_", " ").split()
    words = ["RFC" if w.lower() == "rfc" else w for w in words]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=1024)  # the same few times appear in every email of a batch
def _long_datetime(value: datetime, timezone: str) -> str:
    local = value.astimezone(ZoneInfo(timezone))
    return f"{local.day} {local:%B %Y} at {local:%H:%M}"


class _Template(Template):
    """Jinja's template, with a faster answer to what every `{% import %}` asks.

    At each import Jinja works out which of the importing template's globals the imported one
    lacks, as a set difference through a ChainMap's key view, key by key in Python: 5-7 µs,
    and a page's layout makes fourteen imports (GOV.UK's header, footer, navigation...), a
    quarter of a short page's render. Every template has the environment's globals, so when
    the importer's globals are all the environment's (as here: no template is given globals
    of its own) none can be lacking, which a subset test finds in C; Jinja then returns the
    module it already made, as it would have. Otherwise Jinja answers as before.
    tests/platform/test_templating.py renders pages both ways and compares them byte for byte.
    """

    def _get_default_module(self, ctx: Any = None) -> Any:
        if ctx is not None and ctx.globals_keys.issubset(self.environment.globals):
            ctx = None  # nothing lacking: Jinja's cached module
        return super()._get_default_module(ctx)


class _Unkeyable(Exception):
    """A value a fragment cannot be keyed by: the macro is called as usual."""


_SCALARS = (str, int, float, bool, type(None))


def _key(value: Any) -> Any:
    """A hashable key that tells apart every input a GOV.UK macro renders differently:
    Markup from str (one is escaped, the other not), True from 1, a list from a tuple."""
    kind = type(value)
    if kind is dict:
        return (dict, tuple((k, _key(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return (kind, tuple(_key(v) for v in value))
    if kind is Markup or kind in _SCALARS:
        return (kind, value)
    raise _Unkeyable


class Fragments:
    """The HTML of GOV.UK component macros called with the same params, rendered once.

    The layout calls the same component with the same params on page after page (the
    service navigation is the same for everyone with the same menu on the same section):
    ~70 µs of a short page's ~175 µs went on it and the skip link, which the layout now
    writes out itself. GOV.UK's macros render from their params alone, so the HTML is kept
    by macro and params. A Macro object belongs to one loaded template, so a template
    reloaded in development makes new keys, never stale HTML; params holding anything but
    dicts, lists, tuples, strings, Markup, numbers, booleans and None are not kept (the macro
    is called every time). At most `size` fragments are kept: when full, the oldest is
    dropped.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._kept: dict[Any, Markup] = {}
        self._lock = threading.Lock()

    def __call__(self, macro: Any, params: Any) -> Markup:
        try:
            key = (macro, _key(params))
        except _Unkeyable:
            return Markup(macro(params))  # noqa: S704 - a macro's output, escaped by Jinja
        html = self._kept.get(key)
        if html is None:
            html = Markup(macro(params))  # noqa: S704 - a macro's output, escaped by Jinja
            with self._lock:  # pages render on many threads: one of them drops the oldest
                if len(self._kept) >= self.size:
                    self._kept.pop(next(iter(self._kept)), None)
                self._kept[key] = html
        return html


@lru_cache
def environment() -> Environment:
    env = Environment(
        # govuk-frontend-jinja's macros import each other as "govuk_frontend_jinja/...".
        loader=ChoiceLoader([FileSystemLoader(ROOT / "templates"), _GovukLoader()]),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=get_settings().env == "dev",  # elsewhere templates change only on deploy
    )
    env.template_class = _Template
    env.filters["money"] = money
    env.filters["long_date"] = long_date
    env.filters["paragraphs"] = paragraphs
    env.filters["number"] = number
    env.filters["email_name"] = email_name
    env.globals["select_items"] = select_items
    env.globals["fragment"] = Fragments()
    env.globals["service_name"] = "Signoff"
    env.globals["settings"] = get_settings()
    return env


class _GovukLoader(PackageLoader):
    def __init__(self) -> None:
        super().__init__("govuk_frontend_jinja", "templates")

    def get_source(self, environment, template):  # type: ignore[no-untyped-def]
        prefix = "govuk_frontend_jinja/"
        if template.startswith(prefix):
            template = template[len(prefix) :]
        return super().get_source(environment, template)

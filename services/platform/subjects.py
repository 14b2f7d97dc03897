"""The subjects registry: how the platform reaches a domain's subjects without importing it.

Steps, links, outbox rows, audit events and published events refer to a subject by
(subject_type, subject_id, subject_version). Each domain registers its subject types here
(`services/<domain>/subject.py`), saying how to load one, its status (so a queued email whose
reason has gone is dropped), what its emails are given, its page, and the paths of its action
links. `services/domains.py` is the one place that imports every domain; the registry loads it
the first time it is asked, so a flow, a command or a test never meets an empty registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.db import CachedReads


@dataclass(frozen=True)
class SubjectType:
    name: str  # "rfc": what subject_type columns hold
    templates: str  # the folder of its emails under templates/emails/
    load: Callable[[CachedReads, int], Any | None]
    status: Callable[[Any], str]  # the subject's workflow status now
    email_context: Callable[[CachedReads, Any, str], dict[str, Any]]  # (reads, subject, base URL)
    path: Callable[[Any], str]  # its page, e.g. "/rfcs/7"
    ref: Callable[[Any], str]  # how people name it, e.g. "CSE-RFC-003"
    # Published events: audit action -> past-tense event name ("record_impact" ->
    # "impact_recorded"), and the resources an event relates to (its project).
    event_names: Mapping[str, str] = field(default_factory=dict)
    related: Callable[[CachedReads, Any], list[dict[str, str]]] = lambda reads, subject: []
    # Optional: read many subjects (and what their emails list) at once, before a batch of
    # emails about them is rendered; `load` and `email_context` then find them in `reads`.
    prefetch: Callable[[CachedReads, list[int]], None] | None = None


_TYPES: dict[str, SubjectType] = {}
_LINK_PATHS: dict[str, str] = {}
_loaded = False


def register(subject: SubjectType) -> None:
    _TYPES[subject.name] = subject


def register_link(purpose: str, path: str) -> None:
    """The page an action link of this purpose opens: `path` + the raw token."""
    _LINK_PATHS[purpose] = path


def _load_domains() -> None:
    global _loaded
    if not _loaded:
        importlib.import_module("services.domains")
        _loaded = True


def get(name: str) -> SubjectType:
    _load_domains()
    try:
        return _TYPES[name]
    except KeyError:
        raise LookupError(f"no domain registered subject type {name!r}") from None


def link_path(purpose: str) -> str:
    _load_domains()
    return _LINK_PATHS[purpose]


def names() -> list[str]:
    _load_domains()
    return sorted(_TYPES)

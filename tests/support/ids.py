"""Test ids that can be passed back to pytest on a command line (as `make mutation` does)."""

from __future__ import annotations

import json
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_./=:-]+")


def case_id(value: object) -> str:
    """A short id for a parametrized case: its text or JSON, anything but letters, digits and
    `_./=:-` squeezed to `_` (pytest numbers any two that come out the same)."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value)
        except TypeError:
            text = repr(value)
    return _UNSAFE.sub("_", text[:40]).strip("_") or "empty"

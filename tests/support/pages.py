"""What page tests read off a rendered page."""

from __future__ import annotations

import re
from typing import Any


def csrf_token_of(client: Any, path: str) -> str:
    """The CSRF token of the form on the page at `path`, as a browser would post it."""
    found = re.search(r'name="csrf_token" value="([^"]*)"', client.get(path).text)
    assert found, path
    return found.group(1)

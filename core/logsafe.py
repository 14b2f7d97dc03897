"""Logging that never writes a live token: sign-in and action-link paths are redacted.

A mail scanner's pre-fetch of `/approvals/<token>` or `/sign-in/<token>` would otherwise put a
working link in the access log, readable by anyone who can read logs. Every path an action
link opens (services.platform.subjects.register_link) must be listed in LINK_PREFIXES:
tests/platform/test_link_rules.py fails for one that is not.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# The token is the path segment after these prefixes; anything that could be one is redacted.
LINK_PREFIXES = ("sign-in", "approvals", "figures", "plan-signoff")
TOKEN_PATH = re.compile(r"(/(?:" + "|".join(LINK_PREFIXES) + r")/)[^/\s?#\"']+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATH.sub(REDACTED, text)


class RedactTokens(logging.Filter):
    """Rewrites a record's message, arguments and exception text before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg)) if isinstance(record.msg, str) else record.msg
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in args)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def uvicorn_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging setup, with every handler (and the root logger's) redacting tokens."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact_tokens": {"()": "core.logsafe.RedactTokens"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact_tokens"]
    # Signoff's own loggers propagate to the root: give it the same redacting handler.
    config["root"] = {"handlers": ["default"], "level": level.upper()}
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        config["loggers"].setdefault(name, {})["level"] = level.upper()
    config["loggers"]["httpx"] = {"level": "WARNING"}  # one line per nudge to Prefect is noise
    return config

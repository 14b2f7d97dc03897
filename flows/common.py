"""What every Signoff flow shares: task options and the rule for retrying database trouble."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE
from sqlalchemy.exc import InterfaceError, OperationalError


async def transient_failure(task: Any, task_run: Any, state: Any) -> bool:
    """Retry when the database or network went away (a restart, a failover), not on bugs."""
    try:
        await state.aresult()  # a sync condition here would silently never retry
    except (OperationalError, InterfaceError, ConnectionError, TimeoutError):
        return True
    except Exception:  # noqa: BLE001 - anything else is a bug: fail the run, loudly
        return False
    return False


# Work in Signoff's database is idempotent and cheap to redo: never cache or persist results.
TASK_OPTIONS: dict[str, Any] = {
    "cache_policy": NO_CACHE,
    "persist_result": False,
    "retries": 3,
    "retry_delay_seconds": [5, 20, 60],
    "retry_jitter_factor": 0.5,
    "retry_condition_fn": transient_failure,
}

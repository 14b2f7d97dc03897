"""The platform's SQLModel tables, one module per aggregate; each domain's tables live in
models/<domain>/. `models.all_tables` imports every domain, for Alembic and the test harness."""

from models.audit import AuditEvent
from models.links import ActionToken
from models.outbox import OutboxMessage, OutboxStatus
from models.people import ApiToken, Person, WebSession
from models.steps import Step
from models.throttle import Throttle

__all__ = [
    "ActionToken",
    "ApiToken",
    "AuditEvent",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "Step",
    "Throttle",
    "WebSession",
]

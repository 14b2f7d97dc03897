"""SQLModel tables, one module per aggregate. Importing this registers every table."""

from models.approvals import ActionToken, ApprovalTask
from models.audit import AuditEvent
from models.outbox import OutboxMessage, OutboxStatus
from models.people import ApiToken, Person, WebSession
from models.projects import Project, ProjectMember, Stage
from models.rfcs import Classification, Rfc, RfcStatus
from models.throttle import Throttle

__all__ = [
    "ActionToken",
    "ApiToken",
    "ApprovalTask",
    "AuditEvent",
    "Classification",
    "OutboxMessage",
    "OutboxStatus",
    "Person",
    "Project",
    "ProjectMember",
    "Rfc",
    "RfcStatus",
    "Stage",
    "Throttle",
    "WebSession",
]

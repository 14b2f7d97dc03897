"""Change control's subjects, as the platform sees them: an RFC and its approval link."""

from __future__ import annotations

from typing import Any

from core.db import CachedReads
from models import Person
from models.change_control import Project, Rfc
from services.change_control.rfc_workflow import EVENT_NAMES
from services.platform import subjects


def _load(reads: CachedReads, rfc_id: int) -> Rfc | None:
    return reads.get(Rfc, rfc_id)


def _email_context(reads: CachedReads, rfc: Rfc, base: str) -> dict[str, Any]:
    """An RFC's emails are given the RFC, its project, its page and everyone it names."""
    project = reads.get(Project, rfc.project_id)
    ids = {rfc.requester_id, rfc.approver_id, rfc.decided_by_id, rfc.impact_by_id}
    if project is not None:
        ids |= {project.manager_id, project.sponsor_id}
    return {
        "rfc": rfc,
        "project": project,
        "rfc_url": f"{base}/rfcs/{rfc.id}",
        "people": {i: reads.get(Person, i) for i in ids if i is not None},
    }


def _related(reads: CachedReads, rfc: Rfc) -> list[dict[str, str]]:
    project = reads.get(Project, rfc.project_id)
    if project is None:
        return []
    return [
        {
            "prefect.resource.id": f"signoff.project.{project.code}",
            "prefect.resource.role": "project",
            "prefect.resource.name": project.code,
        }
    ]


subjects.register(
    subjects.SubjectType(
        name="rfc",
        templates="change_control",
        load=_load,
        status=lambda rfc: rfc.status,
        email_context=_email_context,
        path=lambda rfc: f"/rfcs/{rfc.id}",
        ref=lambda rfc: rfc.ref,
        event_names=EVENT_NAMES,
        related=_related,
    )
)
subjects.register_link("approve_rfc", "/approvals/")

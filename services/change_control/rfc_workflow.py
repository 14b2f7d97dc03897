"""The RFC transition table, with each move's after-effects, on the platform's engine.

Nothing else writes `Rfc.status`: every move goes through `WORKFLOW.apply` (a conditional
UPDATE on status and version, the audit row, then the effects listed with the move). Of two
racing decisions exactly one matches the row; the other gets a Conflict.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from core import clock
from models.change_control import Project, Rfc, RfcStatus
from services.change_control.roles import main_role, roles_on
from services.platform import action_links, outbox
from services.platform.actors import Actor
from services.platform.errors import Refusal
from services.platform.workflow import CloseSteps, Move, Moved, Notify, OpenStep, Workflow

S = RfcStatus
APPROVE_LINK = "approve_rfc"


def _due(moved: Moved) -> Any:
    return clock.add_working_days(clock.today(), moved.context.reminder_working_days)


def ask_approver(session: Session, *, rfc: Rfc, project: Project, actor: Actor) -> None:
    """Open the decision step; an approver other than the acting PM gets an emailed link."""
    _ask_approver(session, Moved(WORKFLOW, rfc, project, rfc.status, actor, None))


def _ask_approver(session: Session, moved: Moved) -> None:
    rfc, project = moved.row, moved.context
    assert rfc.approver_id is not None
    if moved.from_status == S.awaiting_approval:  # links are only ever issued while it waits
        action_links.revoke_for_subject(
            session, purpose=APPROVE_LINK, subject_type="rfc", subject_id=rfc.id or 0
        )
    OpenStep("decision", owner=lambda m: m.row.approver_id, due=_due)(session, moved)
    if rfc.approver_id != project.manager_id:
        send_approval_link(session, rfc=rfc)
    elif moved.actor.person_id != project.manager_id:
        Notify("decision_needed", to=lambda m: [project.manager_id], expect=S.awaiting_approval)(
            session, moved
        )


def send_approval_link(session: Session, *, rfc: Rfc, reason: str = "request") -> None:
    """Issue a fresh link for the current version and email it to the approver."""
    assert rfc.approver_id is not None
    link_id = action_links.issue(
        session,
        purpose=APPROVE_LINK,
        subject_type="rfc",
        subject_id=rfc.id or 0,
        subject_version=rfc.version,
        person_id=rfc.approver_id,
    )
    outbox.queue(
        session,
        template="approval_request",
        to_person_id=rfc.approver_id,
        key=f"approval_request:{link_id}",
        subject_type="rfc",
        subject_id=rfc.id,
        action_token_id=link_id,
        expect_status=S.awaiting_approval,
        context={"reason": reason},
    )


def _pm(moved: Moved) -> int:
    return int(moved.context.manager_id)


DECIDED = (
    CloseSteps(revoke_links=APPROVE_LINK),
    Notify(
        "rfc_decided",
        to=lambda m: [
            m.row.requester_id,
            m.context.manager_id,
            m.context.sponsor_id,
            m.row.approver_id,
        ],
    ),
)
WITHDRAWN = (
    CloseSteps(outcome="withdrawn", revoke_links=APPROVE_LINK),
    Notify(
        "rfc_withdrawn",
        to=lambda m: [m.row.requester_id, m.context.manager_id, m.row.approver_id],
        not_the_actor=True,
    ),
)

# (from status, action) -> the move: to status, roles allowed, after-effects
TRANSITIONS: dict[tuple[str, str], Move] = {
    (S.draft, "edit"): Move(S.draft, frozenset({"requester"})),
    (S.draft, "submit"): Move(
        S.impact_analysis,
        frozenset({"requester"}),
        (
            # A draft has no steps to supersede: it gets its first one here.
            OpenStep("impact_analysis", owner=_pm, due=_due, supersede=False),
            Notify(
                "rfc_submitted", to=lambda m: [_pm(m)], expect=S.impact_analysis, not_the_actor=True
            ),
        ),
    ),
    (S.draft, "withdraw"): Move(S.withdrawn, frozenset({"requester"})),
    (S.impact_analysis, "edit"): Move(S.impact_analysis, frozenset({"requester", "manager"})),
    (S.impact_analysis, "record_impact"): Move(
        S.awaiting_approval, frozenset({"manager"}), (_ask_approver,)
    ),
    (S.impact_analysis, "withdraw"): Move(
        S.withdrawn, frozenset({"requester", "manager"}), WITHDRAWN
    ),
    (S.awaiting_approval, "edit"): Move(
        S.awaiting_approval, frozenset({"requester", "manager"}), (_ask_approver,)
    ),
    (S.awaiting_approval, "record_impact"): Move(
        S.awaiting_approval, frozenset({"manager"}), (_ask_approver,)
    ),
    (S.awaiting_approval, "approve"): Move(S.approved, frozenset({"approver"}), DECIDED),
    (S.awaiting_approval, "reject"): Move(S.rejected, frozenset({"approver"}), DECIDED),
    (S.awaiting_approval, "withdraw"): Move(
        S.withdrawn, frozenset({"requester", "manager"}), WITHDRAWN
    ),
}

ACTIONS = ("edit", "submit", "withdraw", "record_impact", "approve", "reject")
STATUS_LABELS = {
    S.draft: "Draft",
    S.impact_analysis: "Impact analysis",
    S.awaiting_approval: "Awaiting approval",
    S.approved: "Approved",
    S.rejected: "Rejected",
    S.withdrawn: "Withdrawn",
}
ACTION_LABELS = {
    "create": "raised",
    "edit": "edited",
    "submit": "submitted",
    "withdraw": "withdrawn",
    "record_impact": "given an impact analysis",
    "approve": "approved",
    "reject": "rejected",
}


def _forbidden_message(rfc: Rfc, action: str, roles: set[str]) -> str:
    if action in ("approve", "reject"):
        if "requester" in roles and "approver" not in roles and rfc.approver_id == rfc.requester_id:
            return "Nobody may approve their own Request for Change."
        return f"Only the approver named for {rfc.ref} may decide it."
    if action == "record_impact":
        return "Only the project's Project Manager records the impact analysis."
    return f"You cannot make this change to {rfc.ref}."


def _not_now(rfc: Rfc, action: str) -> str:
    return (
        f"{rfc.ref} is {STATUS_LABELS[S(rfc.status)].lower()}: it cannot be "
        f"{ACTION_LABELS.get(action, action)} now."
    )


WORKFLOW = Workflow(
    subject_type="rfc",
    table=Rfc,
    moves=TRANSITIONS,
    roles=roles_on,
    main_role=main_role,
    ref=lambda rfc: rfc.ref,
    forbidden=_forbidden_message,
    not_now=_not_now,
    actions=ACTIONS,
)


def allowed_actions(rfc: Rfc, roles: set[str]) -> list[str]:
    """The moves this person may make now (drives which buttons a page shows)."""
    return WORKFLOW.allowed_actions(rfc, roles)


def authorise(rfc: Rfc, project: Project, *, action: str, actor: Actor) -> tuple[str, str, Refusal]:
    """Check the table for this move: (to status, acting role, refusal) or raise."""
    move, acting_role, refusal = WORKFLOW.authorise(rfc, project, action=action, actor=actor)
    return move.to, acting_role, refusal


def apply(
    session: Session,
    *,
    rfc: Rfc,
    project: Project,
    action: str,
    actor: Actor,
    changes: dict[str, Any] | None = None,
    detail: str = "",
    link: Any = None,
) -> Rfc:
    """Make one move and its after-effects (WORKFLOW.apply)."""
    return WORKFLOW.apply(
        session,
        rfc,
        project,
        action=action,
        actor=actor,
        changes=changes,
        detail=detail,
        link=link,
    )


# Past-tense names for the audit actions, as events outside Signoff call them.
EVENT_NAMES = {
    "create": "raised",
    "edit": "edited",
    "submit": "submitted",
    "withdraw": "withdrawn",
    "record_impact": "impact_recorded",
    "approve": "approved",
    "reject": "rejected",
}

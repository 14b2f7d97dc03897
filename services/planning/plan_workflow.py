"""A service plan's workflow: drafted by its owner, submitted to its signatories, returned
when one asks for changes, approved when every signatory has signed the same version.

Editing a submitted plan withdraws that version from its signatories (their links stop
working; signatures already given stay on record against it) and the plan is drafted again:
the next submission is a new version that all of them sign.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.planning import PlanStatus, ServicePlan
from services.platform.workflow import CloseSteps, Move, Moved, Notify, Workflow

SUBJECT = "service_plan"
SIGN_LINK = "sign_plan"
STEP = "signature"

S = PlanStatus
EDITORS = frozenset({"owner", "performance_team"})


@dataclass(frozen=True)
class Holders:
    """Who holds which part on a plan, for the one person acting."""

    signatory_ids: frozenset[int]
    is_admin: bool = False


def _roles(plan: ServicePlan, holders: Holders, person_id: int) -> set[str]:
    roles = set()
    if person_id == plan.owner_id:
        roles.add("owner")
    if holders.is_admin:
        roles.add("performance_team")
    if person_id in holders.signatory_ids:
        roles.add("signatory")
    return roles


def _owner(moved: Moved) -> list[int]:
    return [moved.row.owner_id]


def _signatories(moved: Moved) -> list[int]:
    return sorted(moved.context.signatory_ids)


WITHDRAWN = (CloseSteps(outcome="withdrawn", revoke_links=SIGN_LINK),)
RETURNED = (
    CloseSteps(outcome="changes_asked", revoke_links=SIGN_LINK),
    Notify("plan_changes_asked", to=_owner, expect=S.changes_asked),
)
APPROVED = (
    CloseSteps(outcome="approved", revoke_links=SIGN_LINK),
    Notify("plan_approved", to=lambda m: [m.row.owner_id, *_signatories(m)]),
)

_EDIT = Move(S.drafting, EDITORS)
_SUBMIT = Move(S.submitted, EDITORS)

WORKFLOW = Workflow(
    subject_type=SUBJECT,
    table=ServicePlan,
    moves={
        (S.not_started, "edit"): _EDIT,
        (S.drafting, "edit"): _EDIT,
        (S.changes_asked, "edit"): _EDIT,
        (S.submitted, "edit"): Move(S.drafting, EDITORS, WITHDRAWN),
        (S.not_started, "submit"): _SUBMIT,
        (S.drafting, "submit"): _SUBMIT,
        (S.changes_asked, "submit"): _SUBMIT,
        (S.submitted, "ask_changes"): Move(S.changes_asked, frozenset({"signatory"}), RETURNED),
        # Made by the last signatory to sign, or by the performance team removing the only
        # signatory who had not (services.planning.signoff decides when).
        (S.submitted, "approve"): Move(
            S.approved, frozenset({"signatory", "performance_team"}), APPROVED
        ),
    },
    roles=_roles,
    main_role=lambda roles: next(
        (r for r in ("signatory", "owner", "performance_team") if r in roles), "outsider"
    ),
    ref=lambda plan: f"The {plan.service_area} service plan",
    forbidden=lambda plan, action, roles: {
        "ask_changes": "Only the plan's signatories can ask for changes.",
        "approve": "Only the plan's signatories can sign it.",
    }.get(action, "Only the plan's owner or the performance team can change or submit it."),
    not_now=lambda plan, action: {
        "edit": "The plan has been approved: its approved version cannot be changed.",
        "submit": "The plan is already with its signatories, or has been approved.",
    }.get(action, "The plan is not waiting for signatures."),
    actions=("edit", "submit", "ask_changes", "approve"),
)

LABELS = {
    S.not_started: "Not started",
    S.drafting: "Drafting",
    S.submitted: "Submitted for sign-off",
    S.changes_asked: "Changes asked",
    S.approved: "Approved",
}

"""A return's workflow: open until every figure on it is in, then submitted.

Submitting closes the officer's step (the chase stops) and uses or revokes the entry links.
"""

from __future__ import annotations

from typing import Any

from models.performance import FigureReturn, ReturnStatus
from services.platform.workflow import CloseSteps, Move, Workflow

SUBJECT = "figure_return"
ENTER_LINK = "enter_figures"
STEP = "figures"


def _roles(ret: FigureReturn, context: Any, person_id: int) -> set[str]:
    # Who may act was checked by the service (the officer, by link or signed in, or the
    # performance team); the engine records them in that role.
    return {"officer"}


WORKFLOW = Workflow(
    subject_type=SUBJECT,
    table=FigureReturn,
    moves={
        (ReturnStatus.open, "submit"): Move(
            ReturnStatus.submitted,
            frozenset({"officer"}),
            (CloseSteps(outcome="submitted", revoke_links=ENTER_LINK),),
        ),
    },
    roles=_roles,
    main_role=lambda roles: "officer",
    ref=lambda ret: f"figures for {ret.period}",
    forbidden=lambda ret, action, roles: "You cannot submit these figures.",
    not_now=lambda ret, action: "These figures have already been submitted.",
    actions=("submit",),
)

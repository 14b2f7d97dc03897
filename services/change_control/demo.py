"""Load the CSE project (South Cambridgeshire, 2010) with its people, stages and RFC 3."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from core import clock
from core.settings import ROOT
from models.change_control import Project, Stage
from models.change_control.projects import ProjectCreate
from models.change_control.rfcs import ImpactInput, RfcCreate
from services.change_control import projects, rfc_workflow, rfcs
from services.platform import outbox, people
from services.platform.actors import Actor

DEMO_FILE = ROOT / "data" / "cse_project.yaml"


class DemoDataError(ValueError):
    """The demo file cannot be loaded; the message names the field and its line."""


def load_demo(session: Session, *, path: Path | None = None) -> Project:
    """Idempotent: a second load finds the project and changes nothing."""
    path = path or DEMO_FILE
    data: dict[str, Any] = read_demo_file(path)
    p = data["project"]
    existing = projects.get_project(session, code=p["code"], required=False)
    if existing is not None:
        return existing
    by_name = {}
    for row in data["people"]:
        person = people.ensure_person(
            session, name=row["name"], email=row["email"], job_title=row["role"]
        )
        by_name[row["name"]] = person
    support = by_name[p["support"]]
    support.is_admin = True  # the Project Support Officer administers Signoff in the demo
    vice_chair = by_name["Paul Howes"]
    admin = Actor(person_id=support.id or 0, is_admin=True)
    project = projects.create_project(
        session,
        actor=admin,
        data=ProjectCreate(
            code=p["code"],
            name=p["name"],
            objective=p["objective"],
            sponsor_email=by_name[p["sponsor"]].email,
            manager_email=by_name[p["manager"]].email,
            alternate_approver_email=vice_chair.email,
        ),
    )
    project.start_on, project.end_on = p["start"], p["end"]
    project.group_chair_id = vice_chair.id
    for row in data["people"]:
        projects.add_member(session, project=project, person=by_name[row["name"]], role=row["role"])
    # The file's schedule is the plan after RFC 3 (stage 1 to 31 March 2010); the demo shows the
    # plan RFC 3 asks to change, so each stage is scheduled to finish on its baseline date.
    for s in data["stages"]:  # YAML 1.1 reads the key `no` as False
        session.add(
            Stage(
                project_id=project.id or 0,
                number=s[False],
                name=s["name"],
                baseline_finish=_d(s["baseline_finish"]),
                scheduled_finish=_d(s["baseline_finish"]),
                review_on=_d(s["review"]),
            )
        )
    _load_rfc3(session, project, data["example_rfc"], by_name)
    return project


def read_demo_file(path: Path) -> dict[str, Any]:
    """The YAML, with every date checked first: YAML reads 2010-02-30 as a date and then fails
    deep inside PyYAML, naming neither the field nor the line."""
    text = path.read_text()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise DemoDataError(f"{path}: not valid YAML: {exc}") from exc
    _check_dates(path, root, "")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise DemoDataError(f"{path}: expected a mapping of project, people, stages")
    return data


def _check_dates(path: Path, node: yaml.Node | None, where: str) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _check_dates(path, value, f"{where}.{key.value}" if where else str(key.value))
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _check_dates(path, value, f"{where}[{i}]")
    elif isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:timestamp":
        try:
            yaml.SafeLoader("").construct_yaml_timestamp(node)
        except ValueError as exc:
            raise DemoDataError(
                f"{path}, line {node.start_mark.line + 1}: {where} is {node.value}, "
                f"which is not a real date ({exc})"
            ) from exc


def _load_rfc3(session: Session, project: Project, ex: dict[str, Any], by_name: dict) -> None:
    # Issue-log entries 1 and 2 were issues, not changes: keep the council's number, RFC 3.
    project.rfc_counter = ex["issue_log_no"] - 1
    session.flush()
    pm = Actor(person_id=by_name[ex["requested_by"]].id)
    raised = ex["raised"]  # the date on the council's form, 26 Feb 2010
    # The history carries the council's dates: raised, sent and analysed on the form's date.
    with clock.frozen(datetime.combine(raised, time(10, 0), tzinfo=clock.local_tz())):
        rfc = rfcs.create_rfc(
            session,
            actor=pm,
            project_code=project.code,
            data=RfcCreate(
                title="Combine tasks 1.2 and 2.1 and extend stage 1 to 31 March 2010",
                description=ex["description"],
                expected_benefits=ex["expected_benefits"],
                issue_log_no=ex["issue_log_no"],
            ),
        )
        rfcs.submit_rfc(session, actor=pm, rfc_id=rfc.id or 0)
        impact = ex["impact"]
        rfcs.record_impact(
            session,
            actor=pm,
            rfc_id=rfc.id or 0,
            data=ImpactInput(
                days_of_work=20,
                products_affected=impact["technical"],
                cost_pence=int(impact["cost_gbp"] * 100),
                extends_timescale=impact["extends_timescale"],
                needs_extra_resources=impact["extra_resources"],
                recommendation="Approve the change request, or add additional project resource.",
            ),
        )
    # The sponsor is asked today: a link issued in 2010 would long have expired (its queued
    # email is dropped as no longer relevant), and the step is due from today.
    rfc_workflow.ask_approver(session, rfc=rfc, project=project, actor=pm)
    # The 2010 request for that long-expired link was never sent: it is not mail to show.
    yesterday = clock.now() - timedelta(days=1)
    outbox.discard_queued(session, created_before=yesterday, subject_type="rfc", subject_id=rfc.id)


def _d(value: Any) -> date | None:
    return value if isinstance(value, date) else None

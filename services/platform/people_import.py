"""`signoff users import`: people and their line managers from a CSV or XLSX file.

Columns: name, email, job_title, manager_email. A person already registered (by email) has
their name and job title updated; a new one is registered. Managers are set after every row
is in, so a manager may appear below the people they manage; a manager must be in the file or
already registered. All or nothing: one bad row and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlmodel import Session

from models.people import PersonCreate
from services.platform import people, tabular
from services.platform.errors import Invalid

COLUMNS = ["name", "email", "job_title", "manager_email"]


@dataclass
class PeopleReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    managers_set: int = 0


def import_people(
    session: Session, *, rows: list[dict[str, str]], filename: str = "the file"
) -> PeopleReport:
    """Register or update everyone in the rows and set their line managers."""
    tabular.require_columns(rows, COLUMNS, filename)
    checked, errors = [], []
    for n, row in tabular.numbered(rows):
        try:
            data = PersonCreate(
                name=row["name"], email=row["email"], job_title=row.get("job_title", "")
            )
            checked.append((n, data, people.normalise_email(row.get("manager_email", ""))))
        except ValidationError as exc:
            first = exc.errors()[0]
            errors.append(f"row {n}: {first['loc'][0]}: {first['msg']}")
    emails = [str(d.email).lower() for _, d, _ in checked]
    doubles = {e for e in emails if emails.count(e) > 1}
    errors += [f"{e} appears more than once" for e in sorted(doubles)]
    if errors:
        raise Invalid(f"{filename} was not imported: " + "; ".join(errors[:20]))
    report = PeopleReport()
    for _, data, _ in checked:
        person = people.find_by_email(session, str(data.email))
        if person is None:
            people.add_person(session, data=data)
            report.added.append(str(data.email))
        elif (person.name, person.job_title) != (data.name, data.job_title):
            person.name, person.job_title = data.name, data.job_title
            report.updated.append(person.email)
    for n, data, manager_email in checked:
        if not manager_email:
            continue
        person = people.find_by_email(session, str(data.email))
        manager = people.find_by_email(session, manager_email)
        if manager is None:
            raise Invalid(
                f"{filename} was not imported: row {n}: "
                f"no person has the manager's address {manager_email}"
            )
        if manager.id == person.id:  # type: ignore[union-attr]
            raise Invalid(
                f"{filename} was not imported: row {n}: a person cannot be their own manager"
            )
        if person is not None and person.manager_id != manager.id:
            person.manager_id = manager.id
            report.managers_set += 1
    session.flush()
    return report

"""What a service plan holds: its sections, operational plan and improvement plan.

One document per plan (`service_plan.content`, copied into each `plan_version`), validated here
on every write. The sections follow the council's service plan template; each has named text
fields and, where the plan has a table (finance lines, risks, equality actions), rows. Any
section can be marked "to follow" with who will supply it ("budget information is outstanding
at section 8 ... provided by Finance").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
    field_validator,
)

from models.text import free_text, single_line

TEXT_MAX = 20_000
LINE_MAX = 300
ROWS_MAX = 200
CELL_MAX = 2000
YEARS = 3  # a plan covers three financial years ("2010/11 to 2012/13")


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: Literal["line", "text", "pence", "choice", "month"] = "line"
    choices: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SectionSpec:
    key: str
    number: int
    title: str
    fields: tuple[tuple[str, str], ...] = ()  # (name, label) of each free-text field
    row_label: str = ""  # "budget line": what one row of its table is
    columns: tuple[Column, ...] = ()


_LIKELY = ("very high", "high", "significant", "low", "very low", "almost impossible")
LIKELIHOOD = tuple((c, f"{c} – {w}") for c, w in zip("ABCDEF", _LIKELY, strict=True))
_IMPACTS = ("catastrophic", "critical", "marginal", "negligible")
IMPACT = tuple((c, f"{c} – {w}") for c, w in zip(("I", "II", "III", "IV"), _IMPACTS, strict=True))

SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("about", 1, "About our service", (("description", "Description of the service"),)),
    SectionSpec(
        "context",
        2,
        "Context",
        (
            ("political", "Political drivers"),
            ("economic", "Economic drivers"),
            ("social", "Social drivers"),
            ("technological", "Technological drivers"),
            ("legislative", "Legislative drivers"),
            ("environmental", "Environmental drivers"),
            ("partners", "Key partners"),
            ("strengths", "Strengths"),
            ("weaknesses", "Weaknesses"),
            ("opportunities", "Opportunities"),
            ("threats", "Threats"),
        ),
    ),
    SectionSpec(
        "objectives",
        3,
        "Objectives",
        (
            ("council", "Council objectives and values"),
            ("service", "Service objectives"),
        ),
    ),
    SectionSpec(
        "customers",
        4,
        "Our customers",
        (("customers", "Who our customers are"), ("views", "What they think of us")),
    ),
    SectionSpec(
        "equality",
        5,
        "Equality and diversity",
        (("summary", "Summary"),),
        "equality action",
        (
            Column("team", "Team"),
            Column("eia", "Equality Impact Assessment"),
            Column("action", "Improvement action", "text"),
            Column("completion", "Completion quarter"),
            Column("responsible", "Responsible officer"),
        ),
    ),
    SectionSpec(
        "performance",
        6,
        "Performance and improvement",
        (("achievements", "Achievements"), ("improvement", "Areas for improvement")),
    ),
    SectionSpec(
        "finance",
        7,
        "Financial resources",
        (("summary", "Summary"),),
        "budget line",
        (
            Column("line", "Budget line"),
            Column("year1", "Year 1 (£)", "pence"),
            Column("year2", "Year 2 (£)", "pence"),
            Column("year3", "Year 3 (£)", "pence"),
        ),
    ),
    SectionSpec(
        "workforce",
        8,
        "Workforce",
        (("establishment", "Staffing and establishment"), ("development", "Workforce development")),
    ),
    SectionSpec(
        "risks",
        9,
        "Risks",
        (("summary", "Summary"),),
        "risk",
        (
            Column("description", "Risk", "text"),
            Column("likelihood", "Likelihood", "choice", LIKELIHOOD),
            Column("impact", "Impact", "choice", IMPACT),
            Column("mitigation", "Mitigation", "text"),
            Column("owner", "Owner"),
        ),
    ),
)
SECTION_BY_KEY = {s.key: s for s in SECTIONS}


def _line(value: str) -> str:
    return single_line(value)


def _cell(value: object) -> str | int | None:
    """A table cell: text (no hidden characters), an amount in pence (at most £100bn either
    way), or nothing. One validator, so an error names the cell, not a branch of a union."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > 10**13:
            raise ValueError("must be at most £100,000,000,000")
        return value
    if not isinstance(value, str):
        raise ValueError("must be text or a whole number of pence")
    if len(value) > CELL_MAX:
        raise ValueError(f"must be {CELL_MAX:,} characters or fewer")
    return free_text(value)


CellName = Annotated[str, AfterValidator(single_line)]
Cell = Annotated[
    str | int | None,
    PlainValidator(_cell),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": CELL_MAX},
                {"type": "integer"},
                {"type": "null"},
            ]
        }
    ),
]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fields: dict[str, str] = Field(default_factory=dict)
    rows: list[dict[CellName, Cell]] = Field(default_factory=list, max_length=ROWS_MAX)
    to_follow: bool = False
    to_follow_by: str = Field(default="", max_length=120)  # "Finance"

    @field_validator("fields")
    @classmethod
    def _texts(cls, v: dict[str, str]) -> dict[str, str]:
        for name, text in v.items():
            if len(text) > TEXT_MAX:
                raise ValueError(f"{name} is longer than {TEXT_MAX:,} characters")
            free_text(text)
        return v

    @field_validator("to_follow_by")
    @classmethod
    def _who(cls, v: str) -> str:
        return single_line(v)


class Target(BaseModel):
    """One year's target as the plan wrote it, and what could be read from it. The text is
    always kept; the parsed parts are None where the text says something else."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(default="", max_length=LINE_MAX)
    kind: Literal["value", "date", "not_applicable", "text", "none"] = "none"
    comparator: Literal["<", "<=", ">", ">=", "="] | None = None
    value: float | None = Field(default=None, allow_inf_nan=False)
    unit: str | None = Field(default=None, max_length=40)  # "%", "out of 4", "seconds"
    on: date | None = None  # a milestone's month ("May 2010": its last day)
    note: str = Field(default="", max_length=LINE_MAX)  # "09-10 assessment"

    @field_validator("text", "note")
    @classmethod
    def _visible(cls, v: str) -> str:
        return free_text(v)  # a spreadsheet cell may hold a line break; nothing hidden


class OperationalRow(BaseModel):
    """One row of the operational plan: an indicator or SMART milestone with three years'
    targets and its lead officer."""

    model_config = ConfigDict(extra="forbid")
    team: str = Field(default="", max_length=LINE_MAX)
    aim_approach: str = Field(default="", max_length=LINE_MAX)
    service_objective: str = Field(default="", max_length=LINE_MAX)
    supporting_objective: str = Field(default="", max_length=2000)
    indicator: str = Field(min_length=1, max_length=2000)
    code: str = Field(default="", max_length=40)  # "PP4", "SX028a"; "" for a "NEW PI"
    targets: list[Target] = Field(default_factory=list, max_length=YEARS)
    lead_officer: str = Field(default="", max_length=LINE_MAX)

    @field_validator("team", "aim_approach", "service_objective", "code", "lead_officer")
    @classmethod
    def _single(cls, v: str) -> str:
        return single_line(v)

    @field_validator("supporting_objective", "indicator")
    @classmethod
    def _free(cls, v: str) -> str:
        return free_text(v).strip()

    @field_validator("indicator")
    @classmethod
    def _said(cls, v: str) -> str:
        if not v:  # blank once trimmed: stored, it would fail every later read of the plan
            raise ValueError("enter the indicator or milestone")
        return v


class ImprovementAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(default="", max_length=20)  # "1.2"
    action: str = Field(min_length=1, max_length=2000)
    resources: str = Field(default="", max_length=2000)  # additional resources
    outputs: str = Field(default="", max_length=2000)
    outcomes: str = Field(default="", max_length=2000)
    risks: str = Field(default="", max_length=2000)
    other_services: str = Field(default="", max_length=LINE_MAX)
    completion: str = Field(default="", pattern=r"^(|\d{4}-(0[1-9]|1[0-2]))$")  # "2011-03"
    responsible: str = Field(default="", max_length=LINE_MAX)

    @field_validator("number", "other_services", "responsible")
    @classmethod
    def _single(cls, v: str) -> str:
        return single_line(v)

    @field_validator("action", "resources", "outputs", "outcomes", "risks")
    @classmethod
    def _free(cls, v: str) -> str:
        return free_text(v).strip()

    @field_validator("action")
    @classmethod
    def _said(cls, v: str) -> str:
        if not v:  # blank once trimmed: stored, it would fail every later read of the plan
            raise ValueError("enter the action")
        return v


class PlanContent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sections: dict[str, Section] = Field(default_factory=dict)
    operational: list[OperationalRow] = Field(default_factory=list, max_length=1000)
    improvement: list[ImprovementAction] = Field(default_factory=list, max_length=ROWS_MAX)

    @field_validator("sections")
    @classmethod
    def _known(cls, v: dict[str, Section]) -> dict[str, Section]:
        unknown = sorted(set(v) - set(SECTION_BY_KEY))
        if unknown:
            raise ValueError(f"no such section: {', '.join(unknown)}")
        return v

    def section(self, key: str) -> Section:
        return self.sections.get(key) or Section()

    def outstanding(self) -> list[tuple[SectionSpec, Section]]:
        """The sections marked "to follow"."""
        return [(s, self.sections[s.key]) for s in SECTIONS if self.section(s.key).to_follow]

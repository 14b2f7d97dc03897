"""The layers' rules, checked on the source: dependencies point one way (docs/architecture.md).

- `core` is infrastructure: it imports nothing of ours above it.
- The platform (`services/platform`, the tables in `models/*.py`) imports no domain.
- A domain imports the platform, never another domain.
- Page and API routes call services; they never query the database themselves.
- The web app never imports Prefect (it costs seconds and tens of MB per worker).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("core", "cli", "models", "services", "api", "flows")
DOMAINS = ("change_control", "performance", "planning")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute names; `from x import y` gives x and x.y)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def files(*folders: str, top_only: bool = False) -> list[Path]:
    out: list[Path] = []
    for folder in folders:
        base = ROOT / folder
        out += sorted(base.glob("*.py") if top_only else base.rglob("*.py"))
    return out


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if (
        len(parts) >= 2
        and parts[0] in ("models", "services", "api", "templates")
        and parts[1] in DOMAINS
    ):
        return parts[1]
    if len(parts) >= 3 and parts[0] == "api" and parts[2] in DOMAINS:
        return parts[2]
    return None


def offenders(paths: list[Path], bad) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        f"{p.relative_to(ROOT)} imports {m}" for p in paths for m in sorted(imports_of(p)) if bad(m)
    ]


def test_core_imports_nothing_of_ours_above_it():
    above = tuple(o for o in OURS if o != "core")
    assert offenders(files("core"), lambda m: m.split(".")[0] in above) == []


def test_the_platform_imports_no_domain():
    # models/all_tables.py is the one module that gathers every domain's tables (for Alembic
    # and the tests), as services/domains.py gathers their registrations.
    platform = files("services/platform") + [
        p for p in files("models", top_only=True) if p.name != "all_tables.py"
    ]
    assert offenders(platform, lambda m: domain_of(m) is not None) == []
    assert offenders(platform, lambda m: m.split(".")[0] in ("api", "flows", "cli")) == []


def test_a_domain_imports_no_other_domain():
    for domain in DOMAINS:
        mine = [
            p
            for folder in ("models", "services")
            for p in files(f"{folder}/{domain}")
            if (ROOT / folder / domain).exists()
        ]
        assert offenders(mine, lambda m, d=domain: domain_of(m) not in (None, d)) == []


def test_page_and_api_routes_never_query_the_database_themselves():
    """No `select`/`update`/`text` imported into api/, no session.get/exec/execute/query."""
    problems = offenders(
        files("api"),
        lambda m: (
            m.startswith("sqlalchemy")
            or m in ("sqlmodel.select", "sqlmodel.col", "sqlmodel.update")
        ),
    )
    for path in files("api"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "exec", "execute", "query", "scalar", "add")
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("session", "db", "s")
            ):
                problems.append(
                    f"{path.relative_to(ROOT)}:{node.lineno} "
                    f"{node.func.value.id}.{node.func.attr}()"
                )
    assert problems == []


def test_the_rule_checks_themselves_catch_a_breach(tmp_path):
    """The checks above must be able to fail: each sees the breach it is for."""
    breach = tmp_path / "x.py"
    breach.write_text("from services.change_control import rfcs\nimport api.app\n")
    assert domain_of("services.change_control.rfcs") == "change_control"
    assert domain_of("api.pages.change_control") == "change_control"
    assert domain_of("services.platform.outbox") is None
    assert {"services.change_control", "services.change_control.rfcs", "api.app"} <= imports_of(
        breach
    )


def workflow_tables() -> dict[str, str]:
    """Every table with a workflow (a status and a version column): class name -> table."""
    from sqlmodel import SQLModel

    from models.all_tables import metadata  # noqa: F401 - registers every domain's tables

    found = {}
    for mapper in SQLModel._sa_registry.mappers:  # type: ignore[attr-defined]
        columns = mapper.local_table.c
        if "status" in columns and "version" in columns:
            found[mapper.class_.__name__] = mapper.local_table.name
    return found


def status_writes(source: str, tables: dict[str, str]) -> list[str]:
    """Each place in `source` that writes a workflow status other than by the engine."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            found += [
                f"line {node.lineno}: .status ="
                for t in targets
                if isinstance(t, ast.Attribute) and t.attr == "status"
            ]
        if isinstance(node, ast.Call):
            name = (
                node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            )
            if (
                name == "update"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in tables
            ):
                found.append(f"line {node.lineno}: update({node.args[0].id})")
            if (
                name == "setattr"
                and len(node.args) > 1
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value == "status"
            ):
                found.append(f"line {node.lineno}: setattr(..., 'status')")
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for table in tables.values():
                if re.search(rf"\bUPDATE\s+{table}\b", node.value, re.IGNORECASE):
                    found.append(f"line {node.lineno}: UPDATE {table} in SQL text")
    return found


def test_nothing_but_the_workflow_engine_writes_a_status():
    """A workflow's status changes only through Workflow.apply (its conditional UPDATE and
    audit row). Creating a row in its first status is the one other write."""
    tables = workflow_tables()
    # a new domain's workflow table joins this list
    assert tables == {"Rfc": "rfc", "FigureReturn": "figure_return", "ServicePlan": "service_plan"}
    engine = ROOT / "services/platform/workflow.py"
    problems = [
        f"{p.relative_to(ROOT)} {w}"
        for p in files("services", "api", "flows", "cli")
        if p != engine
        for w in status_writes(p.read_text(), tables)
    ]
    assert problems == []


def test_the_status_check_sees_each_kind_of_write():
    tables = {"Rfc": "rfc"}
    for breach in (
        "rfc.status = 'approved'",
        "setattr(rfc, 'status', 'approved')",
        "session.execute(update(Rfc).values(status='approved'))",
        "session.execute(text('update rfc set status = 1'))",
    ):
        assert status_writes(breach, tables), breach
    assert status_writes("session.execute(update(Person).values(active=False))", tables) == []


@pytest.mark.slow
def test_the_web_app_never_imports_prefect():
    code = (
        "import sys; from api.app import create_app; create_app(); "
        "import api.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout

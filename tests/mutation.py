"""`make mutation`: mutmut over the rule modules, each against only the tests that cover it.

Run from the project root with the project's Python: `python tests/mutation.py [module ...]`.
mutmut copies the code to mutants/ and mutates the copy (never the working tree; do not use
`mutmut apply`, which writes a mutant into the source). Each module runs in its own process, with
only its own test files; mutmut then runs, for each mutant, only those of them that call the
mutated function. SQLite only, no browser tests ([tool.mutmut] in pyproject.toml). Not in CI.
Prints one line per module (killed / total) and writes mutants/summary.txt, and every mutant
not killed with the lines it changes to mutants/survivors.txt. docs/testing.md records the
last run and why each survivor may stay.
"""

from __future__ import annotations

import ast
import difflib
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# module -> (the mutants to run, as a mutmut name pattern; the test files that cover it)
CC, PL, API = "tests/change_control/", "tests/platform/", "tests/api/"
PF, PN = "tests/performance/", "tests/planning/"
RULES: dict[str, tuple[str, list[str]]] = {
    # how the write path's statements reach the database (types, defaults, errors)
    "core/statements.py": (
        "core.statements.*",
        [
            PL + "test_prepared_statements.py",
            PL + "test_audit_chain.py",
            PL + "test_steps.py",
            PL + "test_links.py",
        ],
    ),
    # permissions and roles
    "services/change_control/roles.py": (
        "services.change_control.roles.*",
        [
            CC + "test_transitions.py",
            CC + "test_segregation.py",
            CC + "test_audit_roles.py",
            API + "test_outsiders.py",
        ],
    ),
    "services/change_control/access.py": (
        "services.change_control.access.*",
        [CC + "test_access_rules.py", API + "test_outsiders.py", API + "test_pages.py"],
    ),
    # the workflow engine and change control's table of moves
    "services/platform/workflow.py": (
        "services.platform.workflow.*",
        [
            CC + "test_transitions.py",
            CC + "test_segregation.py",
            CC + "test_audit_roles.py",
            PL + "test_links.py",
        ],
    ),
    "services/change_control/rfc_workflow.py": (
        "services.change_control.rfc_workflow.*",
        [
            CC + "test_transitions.py",
            CC + "test_segregation.py",
            CC + "test_audit_roles.py",
            PL + "test_links.py",
            PL + "test_email.py",
        ],
    ),
    # steps and links
    "services/platform/steps.py": (
        "services.platform.steps.*",
        [
            CC + "test_transitions.py",
            CC + "test_reminders.py",
            PL + "test_chasing.py",
            PL + "test_links.py",
            PL + "test_steps.py",
        ],
    ),
    "services/platform/action_links.py": (
        "services.platform.action_links.*",
        [
            PL + "test_link_rules.py",
            PL + "test_links.py",
            CC + "test_reminders.py",
            PL + "test_email.py",
            PL + "test_throttle.py",
            PL + "test_chasing.py",
        ],
    ),
    # the outbox and what an email says
    "services/platform/outbox.py": (
        "services.platform.outbox.*",
        [
            PL + "test_outbox_rules.py",
            PL + "test_outbox_mutants.py",
            PL + "test_links.py",
            PL + "test_email.py",
            CC + "test_reminders.py",
            PL + "test_chasing.py",
            API + "test_outsiders.py",
            API + "test_route_guards.py",
        ],
    ),
    "services/platform/emails.py": (
        "services.platform.emails.*",
        [
            PL + "test_email.py",
            PL + "test_email_mutants.py",
            PL + "test_chasing.py",
            CC + "test_reminders.py",
        ],
    ),
    # chasing: the engine and change control's policy
    "services/platform/chasing.py": (
        "services.platform.chasing.*",
        # copies start at a later reminder: the month of chasing and the planning calendar
        # are the tests that reach them
        [
            CC + "test_reminders.py",
            PL + "test_chasing.py",
            PF + "test_chase.py",
            PF + "test_chase_rules.py",
            PN + "test_calendar.py",
        ],
    ),
    "services/change_control/chasing.py": (
        "services.change_control.chasing.*",
        [CC + "test_reminders.py", PL + "test_chasing.py"],
    ),
    # CSRF: only the csrf_* functions of api/rendering.py (the rest is page plumbing)
    "api/rendering.py": (
        "api.rendering.x_csrf*",
        [API + "test_route_guards.py", API + "test_pages.py"],
    ),
    # page forms and permission dependencies
    "api/pages/forms.py": (
        "api.pages.forms.*",
        [
            API + "test_form_fields.py",
            API + "test_form_errors.py",
            API + "test_field_error_words.py",
            API + "test_route_guards.py",
            API + "test_pages.py",
            API + "test_pages_hostile.py",
            API + "test_outsiders.py",
        ],
    ),
    # performance: what a figure may be, who may enter it, the one way to enter it, the chase
    "services/performance/figures.py": (
        "services.performance.figures.*",
        [
            PF + "test_figures.py",
            PF + "test_figure_rules.py",
            PF + "test_entry_pages.py",
            PF + "test_entry_rules.py",
            PF + "test_figure_page.py",
            PF + "test_one_figure_rules.py",
            PF + "test_imports.py",
            API + "test_api_performance.py",
        ],
    ),
    "services/performance/one_figure.py": (
        "services.performance.one_figure.*",
        [
            PF + "test_figure_page.py",
            PF + "test_figures.py",
            PF + "test_one_figure_rules.py",
            API + "test_api_performance.py",
        ],
    ),
    "services/performance/access.py": (
        "services.performance.access.*",
        [
            PF + "test_figure_page.py",
            PF + "test_reports.py",
            API + "test_outsiders.py",
            API + "test_api_performance.py",
        ],
    ),
    "services/performance/entry.py": (
        "services.performance.entry.*",
        [PF + "test_entry_pages.py", PF + "test_entry_rules.py", PF + "test_figures.py"],
    ),
    "services/performance/rag.py": (
        "services.performance.rag.*",
        [PF + "test_rag.py", PF + "test_reports.py"],
    ),
    "services/performance/chasing.py": (
        "services.performance.chasing.*",
        [
            PF + "test_chase.py",
            PF + "test_chase_rules.py",
            PF + "test_entry_rules.py",
            PF + "test_cli_performance.py",
        ],
    ),
    # planning: who signs what, when a plan is approved, and the plan's table of moves
    "services/planning/signoff.py": (
        "services.planning.signoff.*",
        [
            PN + "test_signoff.py",
            PN + "test_signoff_rules.py",
            PN + "test_signoff_pages.py",
            PN + "test_plans.py",
        ],
    ),
    "services/planning/plan_workflow.py": (
        "services.planning.plan_workflow.*",
        [PN + "test_signoff.py", PN + "test_plans.py", PN + "test_plan_pages.py"],
    ),
    "api/pages/common.py": (
        "api.pages.common.*",
        [
            API + "test_page_plumbing.py",
            API + "test_outsiders.py",
            API + "test_pages.py",
            API + "test_route_guards.py",
        ],
    ),
}
# mutmut re-selects tests by node id, so every id must survive a command line: tests/conftest.py
# and support/ids.py keep them free of spaces, quotes and brackets.
MAX_CHILDREN = 2
KILLED = ("killed", "timeout")  # a mutant that makes a test hang is caught too


def run_module(module: str) -> None:
    """In a child process: mutate one module, run its mutants against its own tests."""
    from mutmut import configuration
    from mutmut.__main__ import _run

    pattern, tests = RULES[module]
    cfg = configuration.config()
    cfg.only_mutate = [module]
    cfg.pytest_add_cli_args_test_selection = tests
    _run([pattern], MAX_CHILDREN)


def results(module: str) -> dict[str, str]:
    from fnmatch import fnmatch

    from mutmut.stats import status_by_exit_code

    pattern = RULES[module][0]
    meta = json.loads((Path("mutants") / (module + ".meta")).read_text())
    return {
        name: status_by_exit_code[code]
        for name, code in sorted(meta["exit_code_by_key"].items())
        if fnmatch(name, pattern)
    }


@functools.cache
def functions(module: str) -> dict[str, list[str]]:
    """Every function of the mutated copy (mutmut keeps each mutant in it as a function)."""
    source = (Path("mutants") / module).read_text()
    return {
        node.name: (ast.get_source_segment(source, node) or "").splitlines()[1:]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def diff(module: str, name: str) -> list[str]:
    """The lines a mutant changes."""
    bodies = functions(module)
    function = name.rsplit(".", 1)[1]
    original = bodies.get(function.rpartition("__mutmut_")[0] + "__mutmut_orig", [])
    mutant = bodies.get(function, [])
    return [
        line.rstrip()
        for line in difflib.unified_diff(original, mutant, lineterm="", n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def main(modules: list[str]) -> int:
    done = Path(tempfile.mkdtemp(prefix="signoff-mutation-"))
    lines, survivors, started = [], [], time.monotonic()
    try:
        for module in modules:
            # A fresh copy per module: mutmut keeps one set of test stats per mutants/ folder.
            shutil.rmtree("mutants", ignore_errors=True)
            began = time.monotonic()
            subprocess.run([sys.executable, __file__, "--one", module], check=True)
            found = results(module)
            killed = sum(1 for s in found.values() if s in KILLED)
            others = {n: s for n, s in found.items() if s not in KILLED}
            score = 100 * killed / max(len(found), 1)
            lines.append(
                f"{module}: {killed}/{len(found)} killed ({score:.0f}%) "
                f"in {time.monotonic() - began:.0f} s, {len(others)} not killed"
            )
            for name, status in others.items():
                survivors.append(f"## {name} ({status})")
                survivors.extend(diff(module, name))
            shutil.move("mutants", done / module.replace("/", "_").removesuffix(".py"))
        lines.append(f"total time {time.monotonic() - started:.0f} s")
    finally:
        shutil.rmtree("mutants", ignore_errors=True)
        shutil.move(done, "mutants")  # each module's copy, meta files and all, under mutants/
        Path("mutants/summary.txt").write_text("\n".join(lines) + "\n")
        Path("mutants/survivors.txt").write_text("\n".join(survivors) + "\n")
    print("\n".join(lines))
    print("Survivors and their diffs: mutants/survivors.txt")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        run_module(sys.argv[2])
    else:
        sys.exit(main(sys.argv[1:] or list(RULES)))

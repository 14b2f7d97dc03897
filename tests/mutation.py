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
RULES: dict[str, tuple[str, list[str]]] = {
    "services/actors.py": ("services.actors.*", [
        "tests/test_transitions.py", "tests/test_segregation.py", "tests/test_audit_roles.py",
        "tests/test_outsiders.py"]),
    "services/access.py": ("services.access.*", [
        "tests/test_access_rules.py", "tests/test_outsiders.py", "tests/test_pages.py"]),
    "services/rfc_workflow.py": ("services.rfc_workflow.*", [
        "tests/test_transitions.py", "tests/test_segregation.py", "tests/test_audit_roles.py",
        "tests/test_pages.py"]),
    "services/action_links.py": ("services.action_links.*", [
        "tests/test_links.py", "tests/test_reminders.py", "tests/test_email.py",
        "tests/test_throttle.py"]),
    "services/outbox.py": ("services.outbox.*", [
        "tests/test_outbox_rules.py", "tests/test_email.py", "tests/test_reminders.py",
        "tests/test_outsiders.py", "tests/test_route_guards.py"]),
    "services/reminders.py": ("services.reminders.*", ["tests/test_reminders.py"]),
    # Only the CSRF functions of api/rendering.py: the rest is page plumbing.
    "api/rendering.py": ("api.rendering.x_csrf*", [
        "tests/test_route_guards.py", "tests/test_pages.py"]),
    "api/pages/forms.py": ("api.pages.forms.*", [
        "tests/test_route_guards.py", "tests/test_pages.py", "tests/test_pages_hostile.py",
        "tests/test_outsiders.py"]),
    "api/pages/common.py": ("api.pages.common.*", [
        "tests/test_page_plumbing.py", "tests/test_outsiders.py", "tests/test_pages.py",
        "tests/test_route_guards.py"]),
}
# Not tests/test_api_rfcs.py or tests/test_api_integrator.py: mutmut re-selects tests by node
# id, and ids such as `test_malformed_project_is_422[sqlite-{"code": null}]` cannot be passed
# back to pytest.
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
    return {name: status_by_exit_code[code]
            for name, code in sorted(meta["exit_code_by_key"].items()) if fnmatch(name, pattern)}


@functools.cache
def functions(module: str) -> dict[str, list[str]]:
    """Every function of the mutated copy (mutmut keeps each mutant in it as a function)."""
    source = (Path("mutants") / module).read_text()
    return {node.name: (ast.get_source_segment(source, node) or "").splitlines()[1:]
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def diff(module: str, name: str) -> list[str]:
    """The lines a mutant changes."""
    bodies = functions(module)
    function = name.rsplit(".", 1)[1]
    original = bodies.get(function.rpartition("__mutmut_")[0] + "__mutmut_orig", [])
    mutant = bodies.get(function, [])
    return [line.rstrip() for line in difflib.unified_diff(original, mutant, lineterm="", n=0)
            if line[:1] in "+-" and line[:3] not in ("+++", "---")]


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
            lines.append(f"{module}: {killed}/{len(found)} killed ({score:.0f}%) "
                         f"in {time.monotonic() - began:.0f} s, {len(others)} not killed")
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

"""The test tiers cannot rot: process-starting tests are marked, no test imports a conftest.

``make test-fast`` runs ``pytest -m "not chain and not postgres and not stack
and not slow"``; it is only as fast (and as honest) as these markers are
complete. Three checks keep them so:

* every collected test whose fixtures start a process carries the fixture's
  marker (what ``tests/fixtures/tiers.py`` applies at collection);
* every fixture that starts a process (anvil, a devnet node, PostgreSQL, the
  hub's processes, ``subprocess.Popen``) is tagged ``@starts(...)``, and every
  test that starts one in its own body is marked (``pytestmark`` or decorator);
* no module imports a ``conftest.py``: shared fixtures come from the
  ``tests.fixtures`` plugin by name, helpers from ``tests.fixtures.*`` or the
  folder's ``helpers.py``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.fixtures.tiers import FAST, PROCESS_MARKERS, fixture_markers

TESTS = Path(__file__).resolve().parent
#: Calls that start a process which outlives the call (a chain, a server, the stack).
STARTERS = frozenset({"Popen", "AnvilNode", "start_devnet", "PgCluster", "Processes"})


@cache
def _parsed() -> tuple[tuple[Path, ast.Module], ...]:
    paths = sorted(TESTS.rglob("*.py"))
    return tuple((path, ast.parse(path.read_text(), filename=str(path))) for path in paths)


def _sources() -> Iterator[tuple[Path, ast.Module]]:
    yield from _parsed()


def _called(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _starters() -> frozenset[str]:
    """``STARTERS`` and every top-level function or class of tests/ that calls one."""
    calls = [
        (node.name, _called(node))
        for _, tree in _sources()
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    ]
    found = set(STARTERS)
    while more := {name for name, called in calls if name not in found and called & found}:
        found |= more
    return frozenset(found)


def _decorator_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """``fixture`` / ``starts`` / marker names among the decorators (``pytest.mark.chain`` ->
    ``chain``)."""
    names: set[str] = set()
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _module_marks(tree: ast.Module) -> set[str]:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            return {n.attr for n in ast.walk(node.value) if isinstance(n, ast.Attribute)}
    return set()


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node
        elif isinstance(node, ast.ClassDef):
            yield from (
                n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
            )


def test_every_test_whose_fixtures_start_a_process_carries_the_marker(
    request: pytest.FixtureRequest,
) -> None:
    """Over this run's tests: a fixture tagged ``@starts(m)`` in the closure means marker ``m``."""
    unmarked = [
        f"{item.nodeid}: {marker}"
        for item in request.session.items
        for marker in sorted(fixture_markers(item))
        if item.get_closest_marker(marker) is None
    ]
    assert unmarked == []


def test_fixtures_that_start_processes_are_tagged_and_tests_that_do_are_marked() -> None:
    starters = _starters()
    untagged: list[str] = []
    unmarked: list[str] = []
    for path, tree in _sources():
        module_marks = _module_marks(tree) & set(PROCESS_MARKERS)
        where = path.relative_to(TESTS.parent)
        for function in _functions(tree):
            arguments = {a.arg for a in function.args.args}  # fixtures: checked as fixtures
            if not (_called(function) - arguments) & starters:
                continue
            decorators = _decorator_names(function)
            if "fixture" in decorators and "starts" not in decorators:
                untagged.append(f"{where}::{function.name}")
            if (
                function.name.startswith("test")
                and path.name.startswith("test_")
                and not (module_marks or decorators & set(PROCESS_MARKERS))
            ):
                unmarked.append(f"{where}::{function.name}")
    assert untagged == [], "tag these fixtures @starts(...) (tests/fixtures/tiers.py)"
    assert unmarked == [], "mark these tests (pytestmark or @pytest.mark.chain/postgres/stack)"


def test_no_module_imports_a_conftest() -> None:
    """pytest owns conftest.py files: fixtures by name from the plugin, helpers from modules."""
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):  # also ``from tests.x import conftest``
                modules = [f"{node.module}.{alias.name}" for alias in node.names]
                modules.append(node.module or "")
            elif isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            else:
                continue
            found += [
                f"{path.relative_to(TESTS.parent)}:{node.lineno}: {module}"
                for module in modules
                if module.split(".")[-1] == "conftest"
            ]
    assert found == []


def test_the_fast_tier_leaves_out_every_process_marker() -> None:
    """``make test-fast``'s expression (``FAST``) names each process marker and ``slow``."""
    for marker in (*PROCESS_MARKERS, "slow"):
        assert f"not {marker}" in FAST
    makefile = (TESTS.parent / "Makefile").read_text()
    assert f'-m "{FAST}"' in makefile

"""No chain family is named above ``adapters/``: the relayer, the notary and the gateway reach
every family through the seam (``core/seams.py``) and the registry only.

A family named there is a family the hub cannot relay without editing the hub:
the import-linter contract "no family package above adapters" forbids the
imports, and this test the string literals (docstrings aside: prose may give an
example). The family names are the registered ones plus the families ``proofs/``
verifies before they have an adapter.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from adapters.registry import discover

REPO = Path(__file__).resolve().parents[1]
ABOVE_ADAPTERS = ("relayer", "notary", "gateway")
FAMILIES = frozenset(discover(check_imports=False).adapters) | {"chainmaker", "fisco"}


def _docstrings(tree: ast.Module) -> set[int]:
    """``id`` of every docstring constant (module, class, function)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def family_literals(path: Path) -> list[tuple[int, str]]:
    """``(line, literal)`` of every string constant in ``path`` that is a family name."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and node.value.strip().lower() in FAMILIES
    ]


SOURCES = sorted(p for layer in ABOVE_ADAPTERS for p in (REPO / layer).rglob("*.py"))


def test_the_families_known_are_the_registered_ones_and_more() -> None:
    assert {"pujiang", "evm", "cometbft"} <= FAMILIES
    assert len(SOURCES) > 50  # the layers are where this test looks


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_family_literal_above_adapters(path: Path) -> None:
    assert family_literals(path) == []


def test_the_check_finds_a_family_literal(tmp_path: Path) -> None:
    """The detector itself: a literal in code is found, the same word in a docstring is not."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""Talks to "evm" chains."""\n\nif family == "evm":\n    pass\n')
    assert family_literals(sample) == [(3, "evm")]

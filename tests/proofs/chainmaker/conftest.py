"""Fixtures of the ChainMaker tests: the real blocks of ``chain1``, read in place, and their
trust (names and helpers in ``helpers.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from proofs.chainmaker import ChainTrust, compute_chain_trust
from tests.proofs.chainmaker.helpers import BLOCK_FILES, load_json, trust_doc


@pytest.fixture(scope="session")
def cm_dir(shared_vectors: Path) -> Path:
    path = shared_vectors / "chainmaker"
    assert path.is_dir(), f"missing {path}"
    return path


@pytest.fixture(scope="session")
def cm_blocks(cm_dir: Path) -> dict[int, dict[str, Any]]:
    """Height -> the upstream JSON object."""
    return {h: load_json(cm_dir / name) for h, name in BLOCK_FILES.items()}


@pytest.fixture(scope="session")
def cm_trusts(cm_dir: Path, cm_blocks: dict[int, dict[str, Any]]) -> dict[int, ChainTrust]:
    """Config height -> trust; heights 2, 3 are under config 0, heights 30, 34 under 22."""
    return {h: compute_chain_trust(trust_doc(cm_dir, cm_blocks, h)) for h in (0, 22)}

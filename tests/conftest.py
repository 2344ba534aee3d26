"""Shared fixtures: where the third-party conformance vectors live.

The vectors in ``../shared/vectors`` are real data nobody on the project
wrote; they are read in place and never copied into the repository. Their
folder is ``PJGW_VECTORS_DIR`` when set, else ``shared/vectors`` beside the
checkout. A missing folder is an error, not a skip: a suite that silently
skipped its vectors would pass while proving nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def vectors_dir() -> Path:
    configured = os.environ.get("PJGW_VECTORS_DIR")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "vectors"
    if not path.is_dir():
        raise pytest.UsageError(
            f"conformance vectors not found at {path}: set PJGW_VECTORS_DIR or place "
            "the shared folder beside the checkout (tests never skip missing vectors)"
        )
    return path


@pytest.fixture(scope="session")
def shared_vectors() -> Path:
    """Root of ``../shared/vectors`` (fails the run when it is missing)."""
    return vectors_dir()

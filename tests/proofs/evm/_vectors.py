"""Where the EVM light-client tests find the shared vectors, with file counts.

Every folder is listed with the exact number of files the suite expects, so
that a missing or renamed folder fails collection instead of testing less.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.fixtures.vectors import vectors_dir

MPT = vectors_dir() / "ethereum-mpt-headers"
SYNC = vectors_dir() / "eth-light-client-sync"


def expect_files(folder: Path, pattern: str, count: int) -> list[Path]:
    """The files matching ``pattern`` in ``folder``; fail loudly unless there are ``count``."""
    found = sorted(folder.glob(pattern))
    if len(found) != count:
        raise AssertionError(
            f"expected {count} files {pattern!r} in {folder}, found {len(found)}: vectors moved?"
        )
    return found


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())

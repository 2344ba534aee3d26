"""Fixtures of the end-to-end and fault tests: real processes, each stopped by its pid afterwards.

* ``anvil`` / ``chain`` / ``evm``: the session's anvil (``tests/evm/conftest.py``)
  with a fresh Bridge per test whose committee is the devnet's three genesis
  notaries, threshold two (``tests/relayer/conftest.py``); blocks are stamped
  one second apart for the test (the EVM rule ``timestamp > parent``).
* ``devnet``: a devnet node process per test (200 ms blocks).
* ``hub``: a ``harness.Hub`` on a SQLite store in the test's directory; every
  process it starts is stopped when the test ends, also on failure.
* ``pg_server`` / ``pg_url``: a throw-away PostgreSQL (``tests/store/pg.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.adapters.conftest import DevnetProcess, start_devnet
from tests.e2e.harness import FAST_RELAYER, Hub, Processes
from tests.evm.conftest import anvil, chain  # noqa: F401 - fixtures re-declared
from tests.relayer.conftest import Anvil, evm  # noqa: F401
from tests.store.pg import pg_server, pg_url  # noqa: F401


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    node = start_devnet(tmp_path / "devnet")
    yield node
    node.stop()


@pytest.fixture
def stamped(evm: Anvil) -> Iterator[Anvil]:  # noqa: F811 - the imported fixture
    """``evm`` with blocks stamped one second apart, removed after the test."""
    evm.chain.call("anvil_setBlockTimestampInterval", 1)
    yield evm
    evm.chain.call("anvil_removeBlockTimestampInterval")


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub of processes on a SQLite store under ``tmp_path/hub``."""
    root = tmp_path / "hub"
    root.mkdir()
    processes = Processes(tmp_path)
    made = Hub(root, processes, {"PJGW_DATA_DIR": str(root)}, dict(FAST_RELAYER))
    try:
        yield made
    finally:
        processes.stop()

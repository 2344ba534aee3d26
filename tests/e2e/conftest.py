"""Fixtures of the end-to-end and fault tests: real processes, each stopped by its pid afterwards.

* ``anvil`` / ``chain`` / ``evm``: the folder's anvil (``tests.fixtures.anvil``)
  with a fresh Bridge per test whose committee is the devnet's three genesis
  notaries, threshold two (``tests.fixtures.relay``); ``stamped``: blocks are
  stamped one second apart for the test (the EVM rule ``timestamp > parent``).
* ``devnet``: a devnet node process per test (200 ms blocks).
* ``hub``: a ``harness.Hub`` on a SQLite store in the test's directory; every
  process it starts is stopped when the test ends, also on failure.
* ``pg_server`` / ``pg_url``: a throw-away PostgreSQL (``tests.fixtures.postgres``).

``devnet`` and ``hub`` start processes: their tests are marked ``chain`` and ``stack``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import FAST_RELAYER, Hub, Processes
from tests.fixtures.devnet import DevnetProcess, start_devnet
from tests.fixtures.relay import Anvil
from tests.fixtures.tiers import starts


@pytest.fixture
@starts("chain")
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    node = start_devnet(tmp_path / "devnet")
    yield node
    node.stop()


@pytest.fixture
def stamped(evm: Anvil) -> Iterator[Anvil]:
    """``evm`` with blocks stamped one second apart, removed after the test."""
    evm.chain.call("anvil_setBlockTimestampInterval", 1)
    yield evm
    evm.chain.call("anvil_removeBlockTimestampInterval")


@pytest.fixture
@starts("stack")
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

"""Fixtures for the relayer's end-to-end tests: a devnet node, anvil, a SqlStore on SQLite.

* ``anvil`` / ``chain`` / ``evm``: the folder's real anvil process with a
  fresh bridge per test (``tests.fixtures.anvil``, ``tests.fixtures.relay``).
* ``devnet``: a devnet node in this process (blocks only on ``produce_block()``),
  served to the adapter through its ASGI app, keys from ``DEVNET_SEED``.
* ``store``: ``gateway.store.SqlStore`` on a SQLite file, migrated, with both
  chains and the route devnet -> anvil registered (``hub_store``).

The test's stand-in for notary processes (``tests.fixtures.relay.sign_proven``)
signs the digest with the devnet notary keys straight into the store; real
notary processes are tested in ``test_notary.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.devnet import InProcessDevnet, in_process_devnet
from tests.fixtures.relay import hub_store


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    with in_process_devnet(tmp_path_factory.mktemp("devnet-relayer")) as made:
        yield made


@pytest.fixture
def store(tmp_path: Path) -> Iterator[object]:
    with hub_store(tmp_path / "hub.db") as sql:
        yield sql

"""Fixtures for the swap tests: a real anvil (HashedTimelock, ERC-20), an in-process devnet
whose clock the test moves, a SqlStore on SQLite and the hub's SwapWatchtower.

* ``clock``: unix time shifted by an offset; ``advance(s)`` moves the devnet's
  block clock, the hub's clock and anvil's (``evm_increaseTime``) together, so
  timelocks pass without sleeping.
* ``devnet``: ``tests.fixtures.devnet_chain.make_chain`` with that clock (blocks only
  when the test calls ``produce``); its dev accounts 0 and 1 are Alice and Bob,
  account 3 is the hub's signer.
* ``env``: the folder's anvil deployment (``tests.fixtures.anvil``, rolled
  back after each test); Alice and Bob hold 10**24 TestToken each, the
  ``relayer`` account is the hub's signer.
* ``hub``: the store, the two adapters and a watchtower; ``restart()`` builds a
  new store object, new adapters and a new watchtower on the same database, as
  a relayer process restarted after a crash would (``Clock``, ``Hub`` and the
  constants are in ``tests/swaps/helpers.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.anvil import Env
from tests.fixtures.devnet_chain import Chain as Devnet
from tests.fixtures.devnet_chain import make_chain
from tests.swaps.helpers import Clock, Hub


@pytest.fixture
def clock(env: Env) -> Clock:
    return Clock(env)


@pytest.fixture
def devnet(tmp_path: Path, clock: Clock) -> Iterator[Devnet]:
    made = make_chain(tmp_path / "devnet", clock=clock.ms)  # type: ignore[arg-type]
    try:
        yield made
    finally:
        made.node.close()


@pytest.fixture
def hub(
    tmp_path: Path,
    env: Env,
    devnet: Devnet,
    clock: Clock,
    anvil: Any,
) -> Iterator[Hub]:
    made = Hub(f"sqlite:///{tmp_path / 'hub.db'}", env, devnet, clock, anvil)
    made.start()
    try:
        yield made
    finally:
        made.stop()

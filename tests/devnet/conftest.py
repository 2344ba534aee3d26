"""Fixtures for the devnet node: an in-process node on a fake clock, its dev keys.

Every node here is the real ``DevnetNode`` on a temporary data directory
(SQLite included); only time is fake, so timelocks and timeouts are crossed
by ``clock.advance(ms)`` instead of sleeping. Blocks are made on demand. The
node and its helpers are ``tests.fixtures.devnet_chain``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.devnet_chain import Chain, make_chain


@pytest.fixture
def chain_factory(tmp_path: Path) -> Iterator[Callable[..., Chain]]:
    made: list[Chain] = []
    counter = iter(range(1000))

    def factory(**options: object) -> Chain:
        data_dir = options.pop("data_dir", None) or tmp_path / f"node{next(counter)}"
        chain = make_chain(data_dir, **options)  # type: ignore[arg-type]
        made.append(chain)
        return chain

    yield factory
    for chain in made:
        chain.node.close()


@pytest.fixture
def chain(chain_factory: Callable[..., Chain]) -> Chain:
    return chain_factory()

"""Store fixtures: every test runs on SQLite (a temp file) and on a real PostgreSQL.

The PostgreSQL half is marked ``postgres`` (``make test-fast`` runs the SQLite half);
``pg_url`` is the ``tests.fixtures.postgres`` plugin's.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.store import SqlStore
from tests.store.helpers import ROUTE_AB, ROUTE_BC, A, B, C


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'hub.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A migrated, empty store with chains a, b, c and routes a->b, b->c."""
    s = SqlStore(store_url)
    s.migrate()
    for chain in (A, B, C):
        s.upsert_chain(ChainRecord(chain, "evm"))
    s.upsert_route(RouteRecord(ROUTE_AB, A, B, RouteProtocol.NOTARY))
    s.upsert_route(RouteRecord(ROUTE_BC, B, C, RouteProtocol.NOTARY))
    yield s
    s.close()

"""Moved to ``tests.fixtures.postgres``; kept for ``bench/hub_e2e.py``, which imports from here."""

from tests.fixtures.postgres import PgCluster, find_pg_bin

__all__ = ["PgCluster", "find_pg_bin"]

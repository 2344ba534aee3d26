"""The root conftest: the shared fixtures are the ``tests.fixtures`` plugin.

Every fixture used by more than one test folder lives in a module of
``tests/fixtures`` registered here (pytest allows ``pytest_plugins`` in the
root conftest only); helper classes and constants are imported from those
modules, never from a ``conftest.py``. A folder's own ``conftest.py`` keeps
what only that folder uses. ``tests/fixtures/tiers.py`` marks the tests that
start processes (``chain``, ``postgres``, ``stack``) for ``make test-fast``.
"""

import pytest

pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = [
    "tests.fixtures.tiers",
    "tests.fixtures.vectors",
    "tests.fixtures.devnet",
    "tests.fixtures.anvil",
    "tests.fixtures.relay",
    "tests.fixtures.postgres",
    "tests.fixtures.softhsm",
]

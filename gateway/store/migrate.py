"""Run the Alembic migrations programmatically (no ``alembic.ini``).

The scripts live in the ``gateway.migrations`` package, found through its
import path, so an installed hub (a wheel, a container image) migrates the
same way as a checkout.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

import gateway.migrations


def alembic_config() -> Config:
    """An Alembic ``Config`` pointing at the packaged migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(gateway.migrations.__file__).parent))
    return cfg


def upgrade_engine(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind ``engine`` to ``revision`` in one transaction."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()

"""``pjgw db``: the store's schema (``pjgw db upgrade [--url URL]``).

The URL comes from ``--url``, else from the settings (``PJGW_DATABASE_URL``,
default ``sqlite:///<PJGW_DATA_DIR>/hub.db``). It is never printed: a
PostgreSQL URL may carry a password.
"""

from __future__ import annotations

import typer
from rich.console import Console

db_app = typer.Typer(help="The hub's database: migrations.", no_args_is_help=True)
console = Console()


@db_app.command()
def upgrade(
    url: str | None = typer.Option(
        None, "--url", help="Database URL (default PJGW_DATABASE_URL or <data dir>/hub.db)"
    ),
) -> None:
    """Create or migrate the schema to the newest revision (safe to run again)."""
    from sqlalchemy.engine import make_url

    from gateway.settings import Settings
    from gateway.store import SqlStore
    from gateway.store.migrate import current_revision

    target = url or Settings().store_url()
    store = SqlStore(target)
    try:
        store.migrate()
        revision = current_revision(store.engine)
    finally:
        store.close()
    shown = make_url(target).render_as_string(hide_password=True)
    console.print(f"[green]ok[/] {store.dialect} database {shown} at revision {revision}")


__all__ = ["db_app"]

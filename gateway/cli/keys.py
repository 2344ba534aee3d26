"""``pjgw keys``: API keys of the hub (``create NAME --role ROLE``, ``revoke NAME``).

The token is printed once, on creation, and only its hash is stored: lose it
and you revoke it and create another. Run against the hub's database
(``PJGW_DATABASE_URL`` / ``PJGW_DATA_DIR``, or ``--url``), even while the hub
runs: the API sees a new key at once.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

keys_app = typer.Typer(help="API keys: create and revoke.", no_args_is_help=True)
console = Console()

ROLE_HELP = (
    "client (transfers), admin (chains, routes, operator tools), notary (attestations), "
    "supervisor (reads, the audit log, pausing routes)"
)


def _store(url: str | None):  # type: ignore[no-untyped-def]
    from gateway.settings import Settings
    from gateway.store import SqlStore

    settings = Settings()
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(url or settings.store_url())
    store.migrate()
    return store


@keys_app.command()
def create(
    name: Annotated[str, typer.Argument(help="A name for the key (who holds it)")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)] = "client",
    url: Annotated[str | None, typer.Option(help="Database URL (default: settings)")] = None,
    quiet: Annotated[bool, typer.Option(help="Print only the token")] = False,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="Write the token to this file (0600), not stdout; a no-op when "
            "the file already holds a valid token of this key (deploy/compose.yaml)"
        ),
    ] = None,
) -> None:
    """Create a key and print its token (shown this once)."""
    store = _store(url)
    try:
        if token_file is not None and _holds_token_of(store, token_file, name):
            console.print(f"[green]exists[/] {role} key {name!r}; its token is in {token_file}")
            return
        token = store.create_api_key(name, role, time.time())
    finally:
        store.close()
    if token_file is not None:
        token_file.touch(mode=0o600)
        token_file.write_text(token + "\n")
        console.print(f"[green]created[/] {role} key {name!r}; its token is in {token_file}")
        return
    if quiet:
        print(token)
    else:
        console.print(f"[green]created[/] {role} key {name!r}; its token (shown once):")
        print(token)


def _holds_token_of(store, path: Path, name: str) -> bool:  # type: ignore[no-untyped-def]
    """True when ``path`` holds a token the store accepts for key ``name``."""
    try:
        token = path.read_text().strip()
    except OSError:
        return False
    found = store.verify_api_key(token) if token else None
    return found is not None and found[0] == name


@keys_app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="The key's name")],
    url: Annotated[str | None, typer.Option(help="Database URL (default: settings)")] = None,
) -> None:
    """Revoke a key: its token stops working at once."""
    store = _store(url)
    try:
        store.revoke_api_key(name)
    finally:
        store.close()
    console.print(f"[green]revoked[/] {name!r}")


__all__ = ["keys_app"]

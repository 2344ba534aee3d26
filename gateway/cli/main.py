"""``pjgw``: the command line of the hub (typer).

The hub's own commands live in this package (``serve``, ``relay``, ``doctor``,
``db``, ``keys``, ``notary``, ``adapters``/``adapter``, ``audit``, ``evidence``,
``ops``, ``policy``). Commands of other
parts (the devnet node, the dev stack and its tour, a chain family's tools)
register themselves through the ``pujiang_gateway.cli`` entry-point group
(:mod:`gateway.cli.plugins`), exactly as an installed package would: the
gateway never imports them, so the layers stay one-way.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from core.errors import PjgwError
from core.logs import configure_logging
from core.runtime import bound_recursion, tune_gc
from gateway.cli.adapters import adapter_app, adapters_app
from gateway.cli.audit import audit_app, evidence_app, ops_app
from gateway.cli.committee import committee_app
from gateway.cli.db import db_app
from gateway.cli.keys import keys_app
from gateway.cli.notary import notary_app
from gateway.cli.plugins import register_plugins
from gateway.cli.policy import policy_app
from gateway.cli.risk import risk_app
from gateway.cli.signer import signer_app
from gateway.settings import Settings

app = typer.Typer(help="Pujiang Gateway: the cross-chain hub.", no_args_is_help=True)
console = Console()
app.add_typer(db_app, name="db")
app.add_typer(adapters_app, name="adapters")
app.add_typer(adapter_app, name="adapter")
app.add_typer(notary_app, name="notary")
app.add_typer(keys_app, name="keys")
app.add_typer(signer_app, name="signer")
app.add_typer(audit_app, name="audit")
app.add_typer(evidence_app, name="evidence")
app.add_typer(ops_app, name="ops")
app.add_typer(committee_app, name="committee")
app.add_typer(risk_app, name="risk")
app.add_typer(policy_app, name="policy")
register_plugins(app)  # devnet, dev, transfer/status/balances, swap, evm (entry points)


@app.callback()
def _main() -> None:
    """Pujiang Gateway: the cross-chain hub."""


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Bind address (default PJGW_HOST or 127.0.0.1)"),
    port: int | None = typer.Option(None, help="Port (default PJGW_PORT or 8080)"),
    chains: Annotated[
        Path | None,
        typer.Option("--chains", help="Chains file (TOML): chains and routes to serve and relay"),
    ] = None,
    relay: bool = typer.Option(True, help="Run the relayer in this process (--no-relay: API only)"),
) -> None:
    """Start the hub: the HTTP API and, with a chains file, the relayer (Ctrl-C stops it)."""
    import asyncio

    from gateway.hub import run_hub

    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    os.environ.setdefault("PJGW_BLS_BACKEND", settings.bls_backend)
    configure_logging(settings.log_level, settings.log_format)
    _banner(
        settings,
        f"API on http://{settings.host}:{settings.port} "
        f"(try: curl -s http://{settings.host}:{settings.port}/v1/info)",
    )
    asyncio.run(run_hub(settings, chains, with_relayer=relay))


def _banner(settings: Settings, text: str) -> None:
    """The start-up line: for the terminal, or a log line when every line must be JSON."""
    if settings.log_format == "json":
        logging.getLogger("pjgw.hub").info("Pujiang Gateway %s", text)
    else:
        console.print(f"[bold]Pujiang Gateway[/] {escape(text)}")


@app.command()
def relay(
    chains: Annotated[
        Path | None,
        typer.Option("--chains", help="Chains file (TOML): the chains and routes to relay"),
    ] = None,
) -> None:
    """Run a relayer process only (no API); several share the work through the store's leases."""
    import asyncio

    from gateway.hub import run_hub

    settings = Settings()
    os.environ.setdefault("PJGW_BLS_BACKEND", settings.bls_backend)
    configure_logging(settings.log_level, settings.log_format)
    from sqlalchemy.engine import make_url

    where = make_url(settings.store_url()).render_as_string(hide_password=True)
    _banner(settings, f"relayer on the store {where}")
    asyncio.run(run_hub(settings, chains, with_api=False))


@app.command()
def doctor() -> None:
    """Self-check: every hash function and every installed BLS backend, on known answers."""
    from gateway.selfcheck import run_selfcheck

    table = Table(title="pjgw doctor: self-check of the verification core")
    table.add_column("check")
    table.add_column("result")
    failed = False
    for name, ok, detail in run_selfcheck():
        failed |= not ok
        table.add_row(name, f"[green]ok[/] {detail}" if ok else f"[red]FAILED[/] {detail}")
    console.print(table)
    if failed:
        raise typer.Exit(code=1)


def main() -> None:
    bound_recursion()
    try:
        tune_gc()
        app()
    except PjgwError as err:
        # escape(): the message starts with "[code]", which rich would take for markup.
        console.print(f"[red]error[/] {escape(str(err))}")
        raise SystemExit(2) from err


if __name__ == "__main__":
    main()

"""``pjgw notary run``: one notary process (its own key, adapters and light clients)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Annotated

import typer

from core.errors import PjgwError
from core.logs import configure_logging

notary_app = typer.Typer(help="Notary signer service.", no_args_is_help=True)


@notary_app.command("run")
def run(
    hub: Annotated[str, typer.Option(help="Hub base URL, e.g. http://127.0.0.1:8080")],
    config: Annotated[Path, typer.Option(help="Chains and routes (TOML), see docs/notary.md")],
    data: Annotated[Path, typer.Option(help="Data directory: checkpoints and the signed log")],
    api_key: str = typer.Option(
        "", envvar="PJGW_NOTARY_API_KEY", help="Hub API key (X-API-Key)", show_default=False
    ),
    poll_interval: float = typer.Option(1.0, min=0.05, max=60.0, help="Seconds between polls"),
    api_key_file: Annotated[
        Path | None, typer.Option(help="Read the hub API key from this file instead")
    ] = None,
    signer: Annotated[
        str | None,
        typer.Option(
            help="The notary's key: keystore:<file> (password in PJGW_KEYSTORE_PASSWORD) or "
            "an RFC 7512 pkcs11: URI with pin-source (docs/operator-guide.md, key management)"
        ),
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="A plaintext hex key file: development only, needs the flag below"),
    ] = None,
    insecure_plaintext_key: Annotated[
        bool, typer.Option(help="Allow --key-file (a plaintext key): development only")
    ] = False,
    metrics_port: int = typer.Option(
        0,
        min=0,
        max=65535,
        envvar="PJGW_NOTARY_METRICS_PORT",
        help="Serve Prometheus metrics on this port (0: none)",
    ),
    metrics_host: str = typer.Option(
        "127.0.0.1", envvar="PJGW_NOTARY_METRICS_HOST", help="Address the metrics port binds"
    ),
) -> None:
    """Poll the hub for work, verify each item with this notary's light clients, sign."""
    if (signer is None) == (key_file is None):
        typer.echo("pjgw notary: give exactly one of --signer and --key-file", err=True)
        raise typer.Exit(2)
    if api_key_file is not None:
        try:
            api_key = api_key_file.read_text().strip()
        except OSError:
            typer.echo(f"pjgw notary: cannot read the API key file {api_key_file}", err=True)
            raise typer.Exit(2) from None
    from adapters.signers import open_signer
    from notary.config import load_config
    from notary.service import Notary
    from notary.work import HttpWorkSource, run_notary

    configure_logging("INFO")  # PJGW_LOG_FORMAT=json: JSON lines (core.logs)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per poll drowns the verdicts
    try:
        ref = signer if signer is not None else f"file:{key_file}"
        key = open_signer(ref, insecure_plaintext=insecure_plaintext_key)
        settings = load_config(config)
        notary = Notary(
            key,
            settings.adapters,
            settings.routes,
            data,
            chain_options=settings.chain_options,
        )
    except PjgwError as err:
        typer.echo(f"pjgw notary: {err}", err=True)
        raise typer.Exit(2) from None
    logging.getLogger("pjgw.notary").info(
        "notary %s (%s) polling %s", notary.address, key.label, hub
    )
    metrics_server = None
    if metrics_port:
        from prometheus_client.exposition import start_http_server

        metrics_server, _ = start_http_server(
            metrics_port, addr=metrics_host, registry=notary.metrics.registry
        )

    async def main() -> None:
        # SIGTERM (docker stop, systemd) ends the loop between rounds like Ctrl-C, so the
        # adapters and the signed log are closed. It must be handled: as a container's
        # PID 1 a process without a handler never sees SIGTERM, and is killed later.
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        source = HttpWorkSource(hub, api_key, notary.address)
        try:
            await run_notary(notary, source, poll_interval=poll_interval, stop=stop)
        finally:
            await source.aclose()
            for adapter in notary.adapters.values():
                await adapter.aclose()
            notary.close()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())

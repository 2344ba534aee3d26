"""``pjgw dev up``: the whole hub on one machine (devnet, anvil, hub, notaries), for the tour.

The work is in ``devtools.devstack``; this module is its command line. Every
port and the data directory are options (and ``PJGW_DEV_*`` variables), so a
test can run a stack on free ports beside a developer's own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

dev_app = typer.Typer(help="The development stack: every part of the hub, locally.")


@dev_app.callback()
def _main() -> None:
    """The development stack: every part of the hub, locally."""


@dev_app.command("up")
def up(
    data_dir: Annotated[
        Path,
        typer.Option(envvar="PJGW_DEV_DIR", help="Data and logs (emptied on each start)"),
    ] = Path("var/dev"),
    host: Annotated[str, typer.Option(envvar="PJGW_DEV_HOST", help="Bind address")] = "127.0.0.1",
    api_port: Annotated[int, typer.Option(envvar="PJGW_DEV_API_PORT", help="Hub API")] = 8080,
    devnet_port: Annotated[
        int, typer.Option(envvar="PJGW_DEV_DEVNET_PORT", help="Devnet node API")
    ] = 26650,
    anvil_port: Annotated[int, typer.Option(envvar="PJGW_DEV_ANVIL_PORT", help="anvil RPC")] = 8545,
    devnet_block_time: Annotated[str, typer.Option(help="Devnet block interval")] = "1s",
    anvil_block_time: Annotated[float, typer.Option(help="anvil block interval, s")] = 1.0,
    relayers: Annotated[
        int,
        typer.Option(
            min=0,
            max=8,
            envvar="PJGW_DEV_RELAYERS",
            help="0: the hub relays; N: the hub serves the API only, N `pjgw relay` "
            "processes relay (the production shape, docs/relayer.md)",
        ),
    ] = 0,
) -> None:
    """Start the dev stack, print its addresses and key, and stop it all on Ctrl-C."""
    from devtools.devstack import DevStackOptions, run

    options = DevStackOptions(
        data_dir=data_dir,
        host=host,
        api_port=api_port,
        devnet_port=devnet_port,
        anvil_port=anvil_port,
        devnet_block_time=devnet_block_time,
        anvil_block_time=anvil_block_time,
        hub_relays=relayers == 0,
        relayers=relayers,
    )
    raise typer.Exit(run(options))


def register(app: typer.Typer) -> None:
    """The dev stack's commands on ``pjgw`` (entry point ``pujiang_gateway.cli``): ``dev``,
    the tour's ``transfer``/``status``/``balances`` and the swap parties' ``swap``."""
    from devtools.swap_party import register as register_swap
    from devtools.tour import register as register_tour

    app.add_typer(dev_app, name="dev")
    register_tour(app)
    register_swap(app)


__all__ = ["dev_app", "register"]

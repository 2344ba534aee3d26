"""``pjgw devnet …`` and ``python -m devnet …``: the devnet node's command line (typer).

``run`` starts (or resumes) a node; ``accounts`` prints the funded dev
accounts of a data directory for the tour. The chain-defining options are
read only on a new data directory (they go into its genesis); on a restart
they may be left out, and a value that contradicts the genesis is an error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from core.errors import ConfigError
from core.runtime import bound_recursion
from devnet.config import NodeConfig, parse_duration
from devnet.genesis import ACCOUNTS_FILE, GENESIS_FILE
from proofs.pujiang.accounts import CRYPTO_PROFILES

app = typer.Typer(help="The reference Pujiang subchain node (devnet).", no_args_is_help=True)


@app.callback()
def _main() -> None:
    """The reference Pujiang subchain node (devnet)."""


@app.command()
def run(
    data: Annotated[Path, typer.Option("--data", help="Data directory (created on first start)")],
    port: int = typer.Option(26657, help="TCP port of the HTTP API"),
    host: str = typer.Option("127.0.0.1", help="Bind address"),
    chain_id: str | None = typer.Option(None, help="Chain id (new chains: pujiang-devnet)"),
    validators: int | None = typer.Option(None, help="Validator count (new chains: 4)"),
    block_time: str = typer.Option("1s", help="Block interval, e.g. 1s or 500ms"),
    instant: bool = typer.Option(False, help="No timer: a block per accepted tx, POST /v1/blocks"),
    hash_profile: str | None = typer.Option(
        None, "--hash", help="Hash profile sha256 or sm3 (new chains: sha256)"
    ),
    crypto: str | None = typer.Option(
        None,
        "--crypto",
        help="standard (sha256, Ed25519 accounts) or gm (SM3, SM2 accounts); new chains: standard",
    ),
    accounts: int | None = typer.Option(None, help="Funded dev accounts (new chains: 4)"),
    notaries: int | None = typer.Option(None, help="Notary committee size (new chains: 3)"),
    notary_threshold: int | None = typer.Option(None, help="Notary threshold (new chains: 2)"),
    seed: str | None = typer.Option(None, help="Hex seed of every dev key (new chains: random)"),
    faults: bool = typer.Option(False, help="Enable /v1/faults/* (equivocation, offline)"),
    log_level: str = typer.Option("info", help="debug, info, warning or error"),
    request_timeout: str = typer.Option(
        "10s", help="A request's head, then its body, must each arrive within this (else 408)"
    ),
    metrics_port: int = typer.Option(
        0, min=0, max=65535, help="Serve Prometheus metrics on this port of --host (0: none)"
    ),
) -> None:
    """Start a devnet node, or resume the chain already in --data."""
    from devnet.server import serve

    hash_profile, account_scheme = _crypto(crypto, hash_profile)
    chosen = {
        "chain_id": chain_id,
        "validators": validators,
        "hash_profile": hash_profile,
        "account_scheme": account_scheme,
        "accounts": accounts,
        "notaries": notaries,
        "notary_threshold": notary_threshold,
        "seed": _seed(seed),
    }
    given = {k: v for k, v in chosen.items() if v is not None}
    if notaries is not None and notary_threshold is None:
        given["notary_threshold"] = notaries // 2 + 1
    config = NodeConfig(
        data_dir=data,
        block_time=parse_duration(block_time),
        instant=instant,
        faults=faults,
        request_seconds=parse_duration(request_timeout),
        explicit=frozenset(given),
        **given,  # type: ignore[arg-type]
    )
    serve(config, host, port, log_level, metrics_port=metrics_port)


def _crypto(crypto: str | None, hash_profile: str | None) -> tuple[str | None, str | None]:
    """``(hash_profile, account_scheme)`` of ``--crypto`` and ``--hash`` (``None``: not given).

    ``--crypto`` names both; a ``--hash`` that contradicts it is an error, not a mix.
    """
    if crypto is None:
        return hash_profile, None
    if crypto not in CRYPTO_PROFILES:
        raise ConfigError(f"--crypto must be {' or '.join(CRYPTO_PROFILES)}, not {crypto!r}")
    profile, scheme = CRYPTO_PROFILES[crypto]
    if hash_profile is not None and hash_profile != profile:
        raise ConfigError(f"--crypto {crypto} hashes with {profile}, not --hash {hash_profile}")
    return profile, scheme


def _seed(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        return bytes.fromhex(text.removeprefix("0x"))
    except ValueError as err:
        raise ConfigError("--seed must be hex") from err


@app.command("accounts")
def show_accounts(
    data: Annotated[Path, typer.Option("--data", help="Data directory of the node")],
) -> None:
    """Print the dev accounts of a data directory (addresses and key seeds: dev only)."""
    genesis = json.loads((data / GENESIS_FILE).read_text())
    accounts = json.loads((data / ACCOUNTS_FILE).read_text())
    scheme = genesis.get("account_scheme", "ed25519")
    shown = genesis["hash_profile"] + ("" if scheme == "ed25519" else f", {scheme} accounts")
    typer.echo(f"chain {genesis['chain_id']} ({shown})")
    for account in accounts:
        typer.echo(f"{account['name']:8} {account['address']}  seed {account[scheme + '_seed']}")


def register(pjgw: typer.Typer) -> None:
    """``pjgw devnet …`` (entry point ``pujiang_gateway.cli``: the gateway never imports it)."""
    pjgw.add_typer(app, name="devnet")


def main() -> None:
    bound_recursion()
    try:
        app()
    except ConfigError as err:
        typer.echo(f"error {err}", err=True)
        raise SystemExit(2) from err

"""``pjgw evm deploy-bridge``: put the hub's ``Bridge.sol`` on an EVM chain, once.

A deployment (``deploy/compose.yaml``) needs the Bridge on its chain before the
hub, relayers and notaries start, and it must be safe to run again on every
``docker compose up``. So: with ``--expect-address`` the command first asks
whether code is already there and, if so, does nothing; otherwise it signs the
creation transaction locally (eth-account, EIP-1559), sends it raw, waits for
the receipt and checks that the contract landed at the expected address. The
first transaction of a fresh account always creates at the same address
(keccak(rlp(sender, 0))), which is how a chains file can name the Bridge
before it exists. Written here rather than in the EVM adapter: the adapter
only calls contracts it is configured with and never creates them.

SECURITY: the deployer key is read from a file and never printed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account
from eth_utils import to_checksum_address

from core.errors import ChainRejected, ConfigError

evm_app = typer.Typer(help="EVM chains: deploy the hub's contracts.", no_args_is_help=True)

DEPLOY_GAS_MARGIN = 1.25
RECEIPT_TIMEOUT = 120.0


@evm_app.command("deploy-bridge")
def deploy_bridge(
    rpc_url: Annotated[str, typer.Option(help="JSON-RPC endpoint of the chain")],
    local_chain: Annotated[str, typer.Option(help="The hub's id of this chain (anvil-31337)")],
    key_file: Annotated[Path, typer.Option(help="File with the deployer's secp256k1 key (hex)")],
    committee: Annotated[str, typer.Option(help="Notary addresses, comma-separated")],
    threshold: Annotated[int, typer.Option(min=1, help="Signatures a certificate needs")],
    admin: Annotated[str | None, typer.Option(help="Bridge admin (default: the deployer)")] = None,
    expect_address: Annotated[
        str | None,
        typer.Option(help="Where the Bridge must land; when code is already there, do nothing"),
    ] = None,
) -> None:
    """Deploy Bridge(local_chain, admin, committee, threshold); idempotent with --expect-address."""
    from adapters.key_files import read_key_file

    members = sorted((m.strip().lower() for m in committee.split(",") if m.strip()), key=_int)
    if not members or threshold > len(members):
        raise ConfigError("the committee needs at least `threshold` members")
    key = read_key_file(key_file)
    address, created = asyncio.run(
        _deploy(rpc_url, key, local_chain, admin, members, threshold, expect_address)
    )
    typer.echo(f"Bridge {'deployed' if created else 'already deployed'} at {address}")


def _int(address: str) -> int:
    try:
        return int(address, 16)
    except ValueError:
        raise ConfigError("a committee member is 0x followed by 40 hex digits") from None


async def _deploy(
    rpc_url: str,
    key: bytes,
    local_chain: str,
    admin: str | None,
    members: list[str],
    threshold: int,
    expect: str | None,
) -> tuple[str, bool]:
    from adapters.evm.artifacts import load_artifact
    from adapters.evm.rpc import JsonRpcClient

    account = Account.from_key(key)
    async with JsonRpcClient(rpc_url) as rpc:
        if expect is not None and await rpc.call("eth_getCode", expect, "latest") not in ("0x", ""):
            return expect.lower(), False
        data = load_artifact("Bridge").encode_deploy(
            local_chain,
            to_checksum_address(admin or account.address),
            [to_checksum_address(m) for m in members],
            threshold,
        )
        tx: dict[str, Any] = {
            "from": account.address,
            "data": "0x" + data.hex(),
            "value": 0,
            "chainId": int(await rpc.call("eth_chainId"), 16),
            "nonce": int(await rpc.call("eth_getTransactionCount", account.address, "pending"), 16),
        }
        estimate = {"from": tx["from"], "data": tx["data"]}
        tx["gas"] = int(int(await rpc.call("eth_estimateGas", estimate), 16) * DEPLOY_GAS_MARGIN)
        tip = int(await rpc.call("eth_maxPriorityFeePerGas"), 16)
        base = int((await rpc.call("eth_getBlockByNumber", "latest", False))["baseFeePerGas"], 16)
        tx |= {"maxPriorityFeePerGas": tip, "maxFeePerGas": 2 * base + tip, "type": 2}
        del tx["from"]
        signed = account.sign_transaction(tx)
        tx_hash = await rpc.call("eth_sendRawTransaction", "0x" + signed.raw_transaction.hex())
        receipt = await _receipt(rpc, tx_hash)
    if int(receipt["status"], 16) != 1:
        raise ChainRejected("the Bridge's creation transaction reverted")
    address = str(receipt["contractAddress"]).lower()
    if expect is not None and address != expect.lower():
        raise ConfigError(
            f"the Bridge landed at {address}, not at --expect-address {expect.lower()}: "
            "the deployer account had sent transactions before"
        )
    return address, True


async def _receipt(rpc: Any, tx_hash: str) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECEIPT_TIMEOUT
    while (receipt := await rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
        if loop.time() > deadline:
            raise ChainRejected("the Bridge's creation transaction was not mined in time")
        await asyncio.sleep(0.2)
    return receipt  # type: ignore[no-any-return]


def register(app: typer.Typer) -> None:
    """``pjgw evm …`` (entry point ``pujiang_gateway.cli``: the gateway never imports a family)."""
    app.add_typer(evm_app, name="evm")


__all__ = ["evm_app", "register"]

"""The ``gm`` profile end to end: a devnet on SM3 + SM2 -> the relayer -> anvil.

The acceptance test of the national-crypto Pujiang profile (``--crypto gm``):
alice's ``bridge_send`` is signed with her SM2 key, the relayer's Pujiang
adapter is configured ``hash_profile=sm3, account_scheme=sm2`` (its light
client verifies SM3 headers; the stand-in notaries read the packet through
it), and the wrapped ERC-20 balance on anvil rises by the amount.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord
from core.states import TransferState
from devnet import keys
from proofs.hashing import sm3
from proofs.pujiang import accounts, codec
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet, in_process_devnet
from tests.fixtures.relay import ROUTE, Anvil
from tests.relayer.test_engine_e2e import (
    AMOUNT,
    close,
    deliveries_on_anvil,
    drive,
    relayer_for,
    voucher_balance,
)


@pytest.fixture(scope="module")
def gm_devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    """A devnet in this process on SM3 hashes and SM2 account signatures."""
    with in_process_devnet(tmp_path_factory.mktemp("devnet-gm"), crypto="gm") as made:
        yield made


def send_from_gm_devnet(
    devnet: InProcessDevnet, receiver: bytes, deadline_s: int, store: Any
) -> tuple[bytes, bytes]:
    """Alice's SM2-signed ``bridge_send`` of ``AMOUNT`` upj to anvil, committed; (tx, hash)."""
    start = devnet.node.produce_block().height + 1
    store.upsert_route(
        RouteRecord(
            ROUTE,
            ChainId(DEVNET_CHAIN),
            ChainId(LOCAL_CHAIN),
            RouteProtocol.NOTARY,
            settings={"start_height": start},
        )
    )
    alice = keys.scheme_account_key(DEVNET_SEED, 0, accounts.SM2)
    nonce = devnet.node.committed_nonce(keys.Account(alice, sm3).address)
    args = [LOCAL_CHAIN.encode(), receiver, b"upj", AMOUNT, 0, deadline_s * 1000]
    raw = keys.sign_tx(alice, DEVNET_CHAIN, nonce, "bridge_send", args)
    tx_hash = devnet.node.submit(raw)
    devnet.node.produce_block()
    return raw, tx_hash


def test_a_gm_devnet_packet_reaches_anvil_and_the_wrapped_balance_rises_by_the_amount(
    gm_devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    before = voucher_balance(evm, evm.alice)
    raw, tx_hash = send_from_gm_devnet(gm_devnet, bytes.fromhex(evm.alice[2:]), deadline, store)

    # the chain is gm: SM3 tx hashes and headers, a sender address of SM3(SM2 key)
    node = gm_devnet.node
    assert node.query_status()["hash_profile"] == "sm3"
    assert node.query_status()["account_scheme"] == "sm2"
    assert tx_hash == sm3(raw)
    tx = codec.decode_transaction(raw)
    assert len(tx.pubkey) == accounts.SM2_PUBKEY_BYTES
    assert tx.pubkey == accounts.sm2_public_key(bytes(keys.account_key(DEVNET_SEED, 0)))
    assert node.genesis.accounts[0].address == sm3(tx.pubkey)[:20]
    receipt = node.query_tx(tx_hash)
    assert receipt["status"] == "committed"
    height = int(receipt["height"])  # type: ignore[arg-type]
    block = node.query_block(height)
    header = codec.decode_header(bytes.fromhex(str(block["header"])[2:]))
    assert bytes.fromhex(str(block["hash"])[2:]) == codec.compute_header_hash(header, sm3)

    async def scenario() -> Any:
        relayer = relayer_for(store, gm_devnet, evm, "relayer-gm")
        try:
            source = relayer.adapters[ChainId(DEVNET_CHAIN)]
            assert source.settings.hash_profile == "sm3"  # type: ignore[attr-defined]
            assert source.settings.account_scheme == "sm2"  # type: ignore[attr-defined]
            return await drive(relayer, store, gm_devnet, evm, TransferState.COMPLETED, tx_hash)
        finally:
            await close(relayer)

    done = asyncio.run(scenario())
    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    assert store.client(ChainId(DEVNET_CHAIN)).trusted_height >= done.source_height

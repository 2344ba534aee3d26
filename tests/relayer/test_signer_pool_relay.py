"""The relayer engine with a signer pool: packets sent on the devnet are delivered to anvil
by a relayer whose anvil account is a pool of four keystore accounts; every packet lands
once, the deliveries are spread over the four, and each account's nonces have no gap."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.signers.keystore_files import write_v3
from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord
from core.states import TransferState
from devnet import keys
from proofs.pujiang import codec
from relayer.engine import Relayer
from relayer.protocols.notary import DELIVER
from relayer.settings import RelayerSettings
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil, pujiang_adapter, relay_evm_settings, sign_proven

PACKETS = 24
ACCOUNTS = 4
PASSWORD = "relay-pool-password"
FAST = RelayerSettings(poll_interval=0.01, wait_interval=0.0, backoff_base=0.01, backoff_cap=0.05)


def _send_packets(devnet: InProcessDevnet, env: Anvil, store: Any, count: int) -> list[bytes]:
    """``count`` sends from alice to anvil in one devnet block (the route starts there)."""
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
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    deadline_ms = (max(env.chain.timestamp(), int(time.time())) + 3600) * 1000
    receiver = bytes.fromhex(env.alice[2:])
    hashes = []
    for i in range(count):
        args = [LOCAL_CHAIN.encode(), receiver, b"upj", 100 + i, 0, deadline_ms]
        tx = keys.sign_tx(alice, DEVNET_CHAIN, nonce + i, "bridge_send", args)
        hashes.append(devnet.node.submit(tx))
    devnet.node.produce_block()
    return hashes


def test_a_relayer_with_a_pool_of_four_delivers_every_packet_once_without_a_nonce_gap(
    devnet: InProcessDevnet,
    evm: Anvil,
    store: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)
    pool_keys = [keccak(f"relay-pool-{i}".encode()) for i in range(ACCOUNTS)]
    refs = []
    for i, key in enumerate(pool_keys):
        evm.chain.call("anvil_setBalance", Account.from_key(key).address, hex(10**21))
        write_v3(tmp_path / f"r{i}.json", key, PASSWORD, f"relayer-{i}", scrypt_n=2**4)
        refs.append(f"keystore:{tmp_path / f'r{i}.json'}")
    addresses = [Account.from_key(k).address.lower() for k in pool_keys]
    starts = {a: int(evm.chain.call("eth_getTransactionCount", a, "latest"), 16) for a in addresses}
    settings = relay_evm_settings(evm).model_copy(
        update={"signer_key": None, "signers": tuple(refs), "balance_check_interval": 3600.0}
    )
    sent = _send_packets(devnet, evm, store, PACKETS)

    async def scenario() -> list[Any]:
        dest = EvmAdapter(settings)
        adapters = {ChainId(DEVNET_CHAIN): pujiang_adapter(devnet), ChainId(LOCAL_CHAIN): dest}
        # Per-packet mode: one delivery transaction per packet, spread over the pool (a
        # batch would carry them all in one transaction from one account).
        per_packet = FAST.model_copy(update={"attestation": "packet"})
        relayer = Relayer(store, adapters, worker_id="pool-relayer", settings=per_packet)
        try:
            for _ in range(400):
                await relayer.run_once()
                await sign_proven(store, adapters[ChainId(DEVNET_CHAIN)], dest, time.time())  # type: ignore[arg-type]
                found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in sent]
                if all(t is not None and t.state is TransferState.COMPLETED for t in found):
                    return found
                await asyncio.sleep(0.01)
            states = Counter(t.state if t else None for t in found)
            raise AssertionError(f"not all completed: {states}")
        finally:
            for adapter in adapters.values():
                await adapter.aclose()  # type: ignore[attr-defined]

    done = asyncio.run(scenario())
    deliveries = [store.action(t.id, DELIVER).tx_hash for t in done]
    txs = [evm.chain.call("eth_getTransactionByHash", "0x" + h.hex()) for h in deliveries]
    by_sender: dict[str, list[int]] = {}
    for tx in txs:
        by_sender.setdefault(tx["from"].lower(), []).append(int(tx["nonce"], 16))
    assert set(by_sender) <= set(addresses)
    assert len(by_sender) == ACCOUNTS  # spread over the whole pool
    assert sum(len(n) for n in by_sender.values()) == PACKETS
    for address, nonces in by_sender.items():  # no gap, no reuse
        assert sorted(nonces) == list(range(starts[address], starts[address] + len(nonces)))
    logs = evm.chain.call(
        "eth_getLogs", {"address": evm.bridge.address, "fromBlock": "0x0", "toBlock": "latest"}
    )
    received = Counter(
        e.args["packet"][0]
        for e in evm.chain._decode_logs(logs)
        if e.name == "RecvPacket" and e.args["packet"][1] == DEVNET_CHAIN
    )
    sequences = [t.packet.sequence for t in done]
    assert all(received[s] == 1 for s in sequences)  # each delivered exactly once

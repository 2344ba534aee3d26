"""Rotating a relayer's signing keys without stopping delivery (issue #20), on real anvil and
the real devnet node.

A relayer delivers packets devnet -> anvil (per packet) from anvil account A (a keystore
file). Mid-run its chains file is reloaded with account B instead (what ``SIGHUP`` does:
``gateway.hub.reload_signers``): B joins the pool and takes every new send, A takes no new
nonce and leaves the pool once its transactions are mined; packets sent before, during and
after all complete, each once. On the devnet the relayer account is swapped the same way:
the next transactions come from the new account, the old one's are committed anyway.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.signers.keystore_files import write_v3
from core.ids import ChainId
from core.states import TransferState
from gateway.hub import reload_signers
from relayer.engine import Relayer
from relayer.protocols.notary import DELIVER
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet
from tests.fixtures.relay import Anvil, pujiang_adapter, relay_evm_settings, sign_proven
from tests.relayer.test_signer_pool_relay import FAST, PASSWORD, _send_packets

S = TransferState


def _keystore(evm: Anvil, tmp_path: Path, name: str) -> tuple[str, str]:
    key = keccak(f"rotated-relayer-{name}".encode())
    address = Account.from_key(key).address
    evm.chain.call("anvil_setBalance", address, hex(10**21))
    write_v3(tmp_path / f"{name}.json", key, PASSWORD, name, scrypt_n=2**4)
    return f"keystore:{tmp_path / f'{name}.json'}", address.lower()


def _chains_file(path: Path, evm: Anvil, ref: str) -> None:
    path.write_text(
        f"""[chains.{LOCAL_CHAIN}]
family = "evm"
rpc_url = "{evm.node.url}"
evm_chain_id = 31337
bridge_address = "{evm.bridge.address}"
signers = ["{ref}"]
"""
    )


def test_a_relayer_key_is_rotated_while_packets_keep_being_delivered(
    devnet: InProcessDevnet,
    evm: Anvil,
    store: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)
    ref_a, address_a = _keystore(evm, tmp_path, "a")
    ref_b, address_b = _keystore(evm, tmp_path, "b")
    settings = relay_evm_settings(evm).model_copy(
        update={"signer_key": None, "signers": (ref_a,), "balance_check_interval": 0.05}
    )
    chains = tmp_path / "chains.toml"
    before = _send_packets(devnet, evm, store, 4)

    async def scenario() -> tuple[list[Any], dict[str, Any], list[str]]:
        dest = EvmAdapter(settings)
        adapters = {ChainId(DEVNET_CHAIN): pujiang_adapter(devnet), ChainId(LOCAL_CHAIN): dest}
        relayer = Relayer(
            store,
            adapters,
            worker_id="key-rotation",
            settings=FAST.model_copy(update={"attestation": "packet"}),
        )
        sent = list(before)
        reloaded: dict[str, Any] = {}
        pools: list[str] = []
        try:
            for _ in range(600):
                await relayer.run_once()
                await sign_proven(store, adapters[ChainId(DEVNET_CHAIN)], dest, time.time())  # type: ignore[arg-type]
                found = [store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), h) for h in sent]
                if not reloaded and any(t is not None and t.state is S.COMPLETED for t in found):
                    _chains_file(chains, evm, ref_b)  # the operator edits the file, then SIGHUP
                    reloaded = reload_signers(chains, adapters)[LOCAL_CHAIN]
                    sent += await asyncio.to_thread(_send_packets, devnet, evm, store, 4)
                if reloaded:
                    await dest.maintain()
                    pools.append(",".join(a.address.lower() for a in dest.pool.accounts))
                done = len(found) == 8 and all(
                    t is not None and t.state is S.COMPLETED for t in found
                )
                if done and [a.address.lower() for a in dest.pool.accounts] == [address_b]:
                    return found, reloaded, pools
                await asyncio.sleep(0.01)
            raise AssertionError(
                f"not done: {[t.state if t else None for t in found]}, {pools[-1:]}"
            )
        finally:
            for adapter in adapters.values():
                await adapter.aclose()  # type: ignore[attr-defined]

    done, reloaded, pools = asyncio.run(scenario())
    assert reloaded["added"] == [Account.from_key(keccak(b"rotated-relayer-b")).address]
    assert [a.lower() for a in reloaded["retiring"]] == [address_a]
    senders = []
    for t in done:
        tx = evm.chain.call(
            "eth_getTransactionByHash", "0x" + store.action(t.id, DELIVER).tx_hash.hex()
        )
        senders.append(tx["from"].lower())
    assert set(senders[:4]) <= {address_a, address_b}
    assert set(senders[4:]) == {address_b}  # after the reload every new send is B's
    assert address_a in senders  # A delivered before the reload
    assert pools[-1] == address_b  # A left the pool once drained
    logs = evm.chain.call(
        "eth_getLogs", {"address": evm.bridge.address, "fromBlock": "0x0", "toBlock": "latest"}
    )
    sequences = [t.packet.sequence for t in done]
    received = [
        e.args["packet"][0]
        for e in evm.chain._decode_logs(logs)
        if e.name == "RecvPacket" and e.args["packet"][1] == DEVNET_CHAIN
    ]
    assert all(received.count(s) == 1 for s in sequences)  # each delivered exactly once


def test_the_devnet_relayer_account_is_swapped_by_a_reload_and_keeps_sending(
    devnet: InProcessDevnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pydantic import SecretStr

    from gateway.keystore import FileKeystore
    from tests.fixtures.devnet import account_seed

    FileKeystore(tmp_path, SecretStr(PASSWORD)).create(
        "new", "pujiang", account_seed(2), scrypt_n=2**4
    )
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)
    first, second, third = (bytes([i]) * 32 for i in (1, 2, 3))

    async def scenario() -> tuple[dict[str, list[str]], bytes, bytes, list[object]]:
        adapter = pujiang_adapter(devnet)
        try:
            old = adapter.relayer_address
            await adapter.anchor_digest(first)  # pending when the key is swapped
            swapped = adapter.reload_signers(
                {"relayer_signer": f"keystore:{tmp_path / 'new.json'}"}
            )
            await adapter.anchor_digest(second)
            devnet.node.produce_block()
            await adapter.anchor_digest(third)
            devnet.node.produce_block()
            new = adapter.relayer_address
            heights = [
                await adapter.anchored_height(first, old),  # type: ignore[arg-type]
                await adapter.anchored_height(second, new),  # type: ignore[arg-type]
                await adapter.anchored_height(third, new),  # type: ignore[arg-type]
                await adapter.anchored_height(second, old),  # type: ignore[arg-type]
            ]
            return swapped, old, new, heights  # type: ignore[return-value]
        finally:
            await adapter.aclose()

    swapped, old, new, heights = asyncio.run(scenario())
    assert new != old
    assert swapped == {"added": ["0x" + new.hex()], "retiring": ["0x" + old.hex()]}
    assert all(h is not None for h in heights[:3])  # the old account's pending one landed too
    assert heights[3] is None  # nothing new was signed by the old account

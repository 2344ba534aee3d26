"""The EVM signer pool against the real anvil: packets spread over four keystore accounts
with no nonce gap and no duplicate, a stuck transaction replaced with a higher fee and
mined, a drained account raising the alarm while the others carry on, a nonce another
sender took recovered by re-reading it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.evm.certificate import compute_packet_digest
from adapters.evm.pool import SignerEmpty
from adapters.evm.settings import EvmChainSettings
from adapters.signers.keystore_files import write_v3
from core.errors import ConfigError
from core.types import ChainAction
from tests.fixtures.anvil import Env

Settings = Callable[..., EvmChainSettings]
Pool = tuple[EvmChainSettings, list[str], list[bytes]]
PoolSettings = Callable[..., Pool]
PASSWORD = "pool-test-password"
SINK = "0x000000000000000000000000000000000000dEaD"
GWEI = 10**9
PACKETS = 500


def _keys(label: str, count: int) -> list[bytes]:
    return [keccak(f"{label}-{i}".encode()) for i in range(count)]


def _keystore_refs(tmp_path: Path, keys: list[bytes]) -> tuple[str, ...]:
    refs = []
    for i, key in enumerate(keys):
        path = tmp_path / f"relayer-{i}.json"
        write_v3(path, key, PASSWORD, f"relayer-{i}", scrypt_n=2**4)
        refs.append(f"keystore:{path}")
    return tuple(refs)


def _fund(env: Env, keys: list[bytes], wei: int = 10**21) -> list[str]:
    addresses = [Account.from_key(k).address for k in keys]
    for address in addresses:
        env.chain.call("anvil_setBalance", address, hex(wei))
    return addresses


@pytest.fixture
def pool_settings(
    env: Env, evm_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> PoolSettings:
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)

    def make(
        label: str, count: int, **changes: object
    ) -> tuple[EvmChainSettings, list[str], list[bytes]]:
        keys = _keys(label, count)
        addresses = _fund(env, keys)
        values: dict[str, object] = {
            "signer_key": None,
            "insecure_plaintext_key": False,  # keystore accounts only: no plaintext key
            "signers": _keystore_refs(tmp_path, keys),
            "balance_check_interval": 3600.0,  # the tests run the schedule's passes themselves
        }
        return evm_settings(**(values | changes)), addresses, keys

    return make


def _pay(key: str, value: int = 1, **extra: object) -> ChainAction:
    return ChainAction("raw", {"to": SINK, "value": value, **extra}, key)


async def _txs(adapter: EvmAdapter, hashes: list[bytes]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for first in range(0, len(hashes), 200):
        found += await adapter.reader.batch(
            [("eth_getTransactionByHash", ["0x" + h.hex()]) for h in hashes[first : first + 200]]
        )
    return found


def _recv_sequences(env: Env, start: int) -> Counter[int]:
    logs = env.chain.call(
        "eth_getLogs", {"address": env.bridge.address, "fromBlock": hex(start), "toBlock": "latest"}
    )
    found: Counter[int] = Counter()
    for log in logs:
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        decoded = env.bridge.artifact.decode_log(topics, bytes.fromhex(log["data"][2:]))
        if decoded is not None and decoded[0] == "RecvPacket":
            found[int(decoded[1]["sequence"])] += 1
    return found


def test_a_pool_of_four_delivers_500_packets_with_no_nonce_gap_and_no_duplicate(
    env: Env, pool_settings: PoolSettings
) -> None:
    settings, addresses, _ = pool_settings("pool-500", 4)
    packets = [env.inbound(sequence=1_000 + i) for i in range(PACKETS)]
    actions = [
        ChainAction(
            "bridge.receivePacket",
            {"args": [p.as_abi(), env.certify(compute_packet_digest(env.domain, p))]},
            f"recv:{p.sequence}",
        )
        for p in packets
    ]
    start_block = int(env.chain.call("eth_blockNumber"), 16) + 1
    starts = {a: int(env.chain.call("eth_getTransactionCount", a, "latest"), 16) for a in addresses}

    async def scenario() -> list[dict[str, str]]:
        async with EvmAdapter(settings) as adapter:
            hashes: list[bytes] = []
            for first in range(0, PACKETS, 100):  # the relayer's batches
                sent = await adapter.submit_many(actions[first : first + 100])
                assert all(isinstance(h, bytes) for h in sent), sent
                hashes += [h for h in sent if isinstance(h, bytes)]
            # the same keys again (a relayer retrying after a crash) send nothing new
            again = await adapter.submit_many(actions[:50])
            assert again == hashes[:50]
            receipts = await adapter.wait_receipts(hashes, timeout=300)
            assert all(r.success for r in receipts)
            return await _txs(adapter, hashes)

    txs = asyncio.run(scenario())
    by_sender: dict[str, list[int]] = {}
    for tx in txs:
        by_sender.setdefault(tx["from"].lower(), []).append(int(tx["nonce"], 16))
    assert sorted(by_sender) == sorted(a.lower() for a in addresses)
    for address in addresses:
        nonces = sorted(by_sender[address.lower()])
        assert len(nonces) == PACKETS // 4  # spread evenly
        assert nonces == list(range(starts[address], starts[address] + len(nonces)))  # no gap
    received = _recv_sequences(env, start_block)
    assert set(received) == {p.sequence for p in packets}
    assert set(received.values()) == {1}  # each packet delivered exactly once


def test_a_transaction_stuck_under_a_low_fee_is_replaced_with_a_higher_one_and_mined(
    env: Env, pool_settings: PoolSettings
) -> None:
    settings, _, _ = pool_settings("stuck", 1, replace_after=600.0)

    async def scenario() -> None:
        async with EvmAdapter(settings) as adapter:
            rpc = adapter.reader
            await rpc.call("evm_setAutomine", False)
            try:
                first = await adapter.submit(_pay("stuck-1", gas=21_000))
                sent = await rpc.call("eth_getTransactionByHash", "0x" + first.hex())
                old_fee = int(sent["maxFeePerGas"], 16)
                # auto-mining paused: no block comes, the transaction stays unmined
                assert (await adapter.receipt(first)).height is None
                await adapter.maintain(now=time.monotonic())  # within replace_after: kept
                assert adapter.pool.replaced == 0
                await adapter.maintain(now=10**9)  # replace_after has passed long since
                assert adapter.pool.replaced == 1
                await rpc.call("evm_mine")
            finally:
                await rpc.call("evm_setAutomine", True)
            receipt = await adapter.receipt(first)  # the journaled hash answers for its replacement
            assert receipt.success
            assert await adapter.wait_receipt(first) == receipt  # and so do the waiters
            assert receipt.tx_hash != first
            mined = await rpc.call("eth_getTransactionByHash", "0x" + receipt.tx_hash.hex())
            assert int(mined["nonce"], 16) == int(sent["nonce"], 16)  # same nonce
            assert int(mined["maxFeePerGas"], 16) * 1000 >= old_fee * 1125  # +12.5 %
            assert (
                int(mined["maxPriorityFeePerGas"], 16) * 1000
                >= int(sent["maxPriorityFeePerGas"], 16) * 1125
            )
            assert await rpc.call("eth_getTransactionByHash", "0x" + first.hex()) is None

    asyncio.run(scenario())


def test_a_stuck_transaction_at_the_fee_cap_is_left_alone_and_logged(
    env: Env,
    pool_settings: PoolSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings, _, _ = pool_settings("capped", 1)

    async def scenario() -> None:
        async with EvmAdapter(settings) as probe:
            quote = await probe.fees.quote()
        assert quote.max_fee_per_gas is not None
        assert quote.max_priority_fee_per_gas is not None
        capped = settings.model_copy(
            update={  # room for this quote, not for a 10 % bump of it
                "max_fee_per_gas_cap": quote.max_fee_per_gas + 1,
                "max_priority_fee_cap": quote.max_priority_fee_per_gas,
                "default_priority_fee": quote.max_priority_fee_per_gas,
            }
        )
        async with EvmAdapter(capped) as adapter:
            rpc = adapter.reader
            await rpc.call("evm_setAutomine", False)
            try:
                first = await adapter.submit(_pay("capped-1", gas=21_000))
                with caplog.at_level(logging.WARNING, logger="adapters.evm.adapter"):
                    await adapter.maintain(now=10**9)
                assert adapter.pool.replaced == 0
                assert "is unmined at the fee cap" in caplog.text
                assert (await adapter.receipt(first)).height is None
            finally:
                await rpc.call("evm_setAutomine", True)
                await rpc.call("evm_mine")

    asyncio.run(scenario())


def test_a_drained_account_raises_the_alarm_and_the_others_carry_on(
    env: Env,
    pool_settings: PoolSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings, addresses, _ = pool_settings("drain", 3, balance_alarm_wei=10**18)
    drained = addresses[1]
    env.chain.call("anvil_setBalance", drained, "0x0")

    async def scenario() -> None:
        async with EvmAdapter(settings) as adapter:
            with caplog.at_level(logging.WARNING, logger="adapters.evm.pool"):
                await adapter.maintain()
            assert adapter.signer_alarms() == [
                f"{settings.chain} signer {drained}: balance 0 wei below {10**18}"
            ]
            assert f"signer {drained} on {settings.chain} is low: 0 wei" in caplog.text
            hashes = [await adapter.submit(_pay(f"carry-{i}", gas=21_000)) for i in range(9)]
            receipts = await adapter.wait_receipts(hashes)
            assert all(r.success for r in receipts)
            senders = Counter(tx["from"].lower() for tx in await _txs(adapter, hashes))
            assert drained.lower() not in senders
            assert sum(senders.values()) == 9
            # every account empty: a clear refusal, nothing signed or sent
            for address in addresses:
                await adapter.reader.call("anvil_setBalance", address, "0x0")
            await adapter.maintain()
            with pytest.raises(SignerEmpty, match="no signer can pay") as refused:
                await adapter.submit(_pay("nobody", gas=21_000))
            assert refused.value.details["check"] == "signer-empty"
            assert refused.value.retryable
            # funded again: the alarm clears
            for address in addresses:
                await adapter.reader.call("anvil_setBalance", address, hex(10**21))
            await adapter.maintain()
            assert adapter.signer_alarms() == []

    asyncio.run(scenario())


def test_a_nonce_taken_by_another_sender_is_recovered_by_re_reading_it(
    env: Env, pool_settings: PoolSettings
) -> None:
    settings, (address,), (key,) = pool_settings("taken", 1)

    async def scenario() -> None:
        async with EvmAdapter(settings) as adapter:
            rpc = adapter.reader
            first = await adapter.submit(_pay("mine-1", gas=21_000))
            await adapter.wait_receipt(first)
            nonce = int(await rpc.call("eth_getTransactionCount", address, "pending"), 16)
            # another process with the same key takes the next nonce behind our back
            other = Account.sign_transaction(
                {
                    "to": SINK,
                    "value": 2,
                    "gas": 21_000,
                    "maxFeePerGas": 100 * GWEI,
                    "maxPriorityFeePerGas": GWEI,
                    "nonce": nonce,
                    "chainId": settings.evm_chain_id,
                },
                key,
            )
            await rpc.call("eth_sendRawTransaction", "0x" + other.raw_transaction.hex())
            resyncs = adapter.nonces.resyncs
            second = await adapter.submit(_pay("mine-2", gas=21_000))  # no error, no backoff
            assert (await adapter.wait_receipt(second)).success
            tx = await rpc.call("eth_getTransactionByHash", "0x" + second.hex())
            assert int(tx["nonce"], 16) == nonce + 1
            assert adapter.nonces.resyncs == resyncs + 1

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"signers": ("file:/nonexistent/plain.key",)}, "development only"),
        ({"signers": ("vault:relayer",)}, "unknown signer reference kind"),
        ({"signers": ("keystore:{ref0}", "keystore:{ref0}")}, "listed twice"),
    ],
)
def test_a_pool_that_does_not_open_is_refused_at_construction(
    env: Env,
    pool_settings: PoolSettings,
    changes: dict[str, tuple[str, ...]],
    refusal: str,
) -> None:
    settings, _, _ = pool_settings("refused", 1)
    ref0 = settings.signers[0].removeprefix("keystore:")
    filled = {"signers": tuple(r.format(ref0=ref0) for r in changes["signers"])}
    with pytest.raises(ConfigError, match=refusal):
        EvmAdapter(settings.model_copy(update=filled))

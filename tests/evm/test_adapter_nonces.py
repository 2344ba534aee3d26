"""Nonces: many transactions in flight from one account, no gap, no reuse, across a restart.

The anvil tests turn automine off so that the transactions really are in
flight together (in the node's pool) before one ``evm_mine`` lands them; the
pool then shows no queued (gapped) transaction. The ``NonceManager`` unit
tests run against a fake chain.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.nonces import NonceManager, is_already_known, is_nonce_used
from adapters.evm.settings import EvmChainSettings
from core.errors import ChainRejected, ChainUnavailable, InvalidInput
from core.types import ChainAction
from tests.fixtures.anvil import Env

Settings = Callable[..., EvmChainSettings]
SINK = "0x000000000000000000000000000000000000dead"


def _pay(key: str, value: int = 1, **extra: object) -> ChainAction:
    return ChainAction("raw", {"to": SINK, "value": value, **extra}, key)


async def _nonces_of(adapter: EvmAdapter, hashes: list[bytes]) -> list[int]:
    txs = await adapter.reader.batch(
        [("eth_getTransactionByHash", ["0x" + h.hex()]) for h in hashes]
    )
    return [int(tx["nonce"], 16) for tx in txs]


async def _pool(adapter: EvmAdapter) -> tuple[int, int]:
    status = await adapter.reader.call("txpool_status")
    return int(status["pending"], 16), int(status["queued"], 16)


def test_200_transactions_in_flight_land_without_a_gap_and_a_restart_continues(
    env: Env, evm_settings: Settings
) -> None:
    async def scenario() -> None:
        settings = evm_settings()
        async with EvmAdapter(settings) as first:
            rpc = first.reader
            start = int(await rpc.call("eth_getTransactionCount", first.address, "pending"), 16)
            await rpc.call("evm_setAutomine", False)
            try:
                hashes = await asyncio.gather(*(first.submit(_pay(f"p{i}")) for i in range(200)))
                assert await _pool(first) == (200, 0)  # all in flight, none behind a gap
                # a restarted process (a new adapter) while those are still pending
                async with EvmAdapter(settings) as second:
                    more = [await second.submit(_pay(f"restart-{i}")) for i in range(5)]
                assert await _pool(first) == (205, 0)
                await rpc.call("evm_mine")
            finally:
                await rpc.call("evm_setAutomine", True)
            receipts = await first.wait_receipts([*hashes, *more])
            assert all(r.success for r in receipts)
            nonces = await _nonces_of(first, [*hashes, *more])
            assert sorted(nonces[:200]) == list(range(start, start + 200))
            assert nonces[200:] == list(range(start + 200, start + 205))
            latest = await rpc.call("eth_getTransactionCount", first.address, "latest")
            assert int(latest, 16) == start + 205

        # a restart after everything landed continues from the chain's nonce too
        async with EvmAdapter(settings) as third:
            (nonce,) = await _nonces_of(third, [await third.submit(_pay("after"))])
            assert nonce == start + 205

    asyncio.run(scenario())


def test_a_refused_transaction_gives_its_nonce_back_and_the_gap_is_filled(
    env: Env, evm_settings: Settings
) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings()) as adapter:
            rpc = adapter.reader
            start = int(await rpc.call("eth_getTransactionCount", adapter.address, "pending"), 16)
            too_much = 10**30  # more than the account holds: the node refuses it at once
            actions = [
                _pay("a", gas=21_000),
                _pay("b", too_much, gas=21_000),
                _pay("c", gas=21_000),
            ]
            await rpc.call("evm_setAutomine", False)
            try:
                results = await adapter.submit_many(actions)
                assert isinstance(results[1], ChainRejected)
                assert not is_nonce_used(results[1])
                assert await _pool(adapter) == (1, 1)  # "c" waits behind the refused nonce
                filler = await adapter.submit(_pay("filler"))
                assert await _pool(adapter) == (3, 0)
                await rpc.call("evm_mine")
            finally:
                await rpc.call("evm_setAutomine", True)
            sent = [results[0], filler, results[2]]
            assert all(isinstance(h, bytes) for h in sent)
            hashes = [h for h in sent if isinstance(h, bytes)]
            assert all(r.success for r in await adapter.wait_receipts(hashes))
            assert await _nonces_of(adapter, hashes) == [start, start + 1, start + 2]

    asyncio.run(scenario())


def test_the_same_idempotency_key_is_sent_once(env: Env, evm_settings: Settings) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings()) as adapter:
            first = await adapter.submit(_pay("once"))
            again = await adapter.submit(_pay("once"))
            (batched,) = await adapter.submit_many([_pay("once")])
            assert first == again == batched
            await adapter.wait_receipt(first)
            count = await adapter.reader.call("eth_getTransactionCount", adapter.address, "latest")
            assert int(count, 16) == (await _nonces_of(adapter, [first]))[0] + 1

    asyncio.run(scenario())


# --- NonceManager against a fake chain --------------------------------------------------------


class FakeChain:
    """The pending nonce a node would report, and how often it was asked."""

    def __init__(self, pending: int) -> None:
        self.pending = pending
        self.reads = 0

    async def __call__(self) -> int:
        self.reads += 1
        await asyncio.sleep(0)
        return self.pending


def test_concurrent_reservations_are_distinct_and_contiguous() -> None:
    async def scenario() -> None:
        chain = FakeChain(7)
        manager = NonceManager(chain)
        nonces = await asyncio.gather(*(manager.reserve() for _ in range(300)))
        assert sorted(nonces) == list(range(7, 307))
        assert chain.reads == 1
        assert manager.outstanding == frozenset(nonces)
        assert await manager.reserve_many(3) == [307, 308, 309]

    asyncio.run(scenario())


def test_released_nonces_are_handed_out_again_lowest_first() -> None:
    async def scenario() -> None:
        manager = NonceManager(FakeChain(0))
        a, b, c, d = await manager.reserve_many(4)
        manager.confirm(a)
        manager.release(c)
        manager.release(b)
        manager.release(b)  # a second release of the same nonce changes nothing
        assert await manager.reserve() == b
        assert await manager.reserve() == c
        assert await manager.reserve() == d + 1
        manager.release(99)  # never handed out: ignored
        assert await manager.reserve() == d + 2

    asyncio.run(scenario())


def test_a_spent_or_doubtful_nonce_resyncs_from_the_chain_once_quiet() -> None:
    async def scenario() -> None:
        chain = FakeChain(10)
        manager = NonceManager(chain)
        first, second = await manager.reserve_many(2)
        manager.spent(first)  # someone else used it
        chain.pending = 13
        assert await manager.reserve() == 12  # second is still outstanding: no resync yet
        assert chain.reads == 1
        manager.confirm(second)
        manager.doubt(12)
        assert await manager.reserve() == 13  # quiet now: re-read the chain
        assert chain.reads == 2
        assert manager.resyncs == 1

    asyncio.run(scenario())


def test_invalidate_after_a_reorg_moves_the_counter_back_to_the_chain() -> None:
    async def scenario() -> None:
        chain = FakeChain(5)
        manager = NonceManager(chain)
        for nonce in await manager.reserve_many(4):
            manager.confirm(nonce)
        chain.pending = 6  # a reorg dropped nonces 6..8
        manager.invalidate()
        assert await manager.reserve() == 6

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (None, "confirmed"),
        (ChainRejected("eth_sendRawTransaction: nonce too low"), "spent"),
        (ChainRejected("eth_sendRawTransaction: replacement transaction underpriced"), "spent"),
        (ChainRejected("eth_sendRawTransaction: insufficient funds for gas * price"), "released"),
        (ChainUnavailable("eth_sendRawTransaction: node timed out"), "doubt"),
        (asyncio.CancelledError(), "doubt"),
    ],
    ids=["accepted", "nonce-too-low", "underpriced-replacement", "refused", "timeout", "cancel"],
)
def test_settle_classifies_the_outcome_of_a_send(error: BaseException | None, outcome: str) -> None:
    async def scenario() -> None:
        chain = FakeChain(0)
        manager = NonceManager(chain)
        nonce = await manager.reserve()
        manager.settle(nonce, error)
        assert manager.outstanding == frozenset()
        following = await manager.reserve()
        if outcome == "released":
            assert following == nonce
        else:
            assert following == (0 if outcome in ("spent", "doubt") else 1)
            assert chain.reads == (2 if outcome in ("spent", "doubt") else 1)

    asyncio.run(scenario())


def test_node_messages_are_recognised() -> None:
    assert is_already_known(ChainRejected("x: transaction already imported"))
    assert is_already_known(ChainRejected("x: already known"))
    assert not is_already_known(ChainRejected("x: nonce too low"))
    assert is_nonce_used(ChainRejected("x: Nonce too low"))


def test_reservation_counts_must_be_positive() -> None:
    async def scenario() -> None:
        manager = NonceManager(FakeChain(0))
        with pytest.raises(InvalidInput):
            await manager.reserve_many(0)

    asyncio.run(scenario())

"""Reorgs on a real anvil: the scanner detects them and rewinds; the light client sees forks.

anvil 1.7.1 refuses ``anvil_reorg`` and ``anvil_rollback`` under
``--prune-history`` ("Required data unavailable": the states are not kept),
so a reorg is made the other way the issue allows: ``evm_snapshot``, mine
fork A, ``evm_revert``, mine a different fork B over the same heights.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.scanner import MemoryBlockHashStore
from adapters.evm.settings import EvmChainSettings
from core.errors import ReorgDetected
from core.types import ChainAction, ChainEvent, HeaderUpdate
from proofs.evm.client import freeze_client
from proofs.evm.header import decode_header
from tests.fixtures.anvil import REMOTE_CHAIN, Env

Settings = Callable[..., EvmChainSettings]


def _send(receiver: bytes, deadline: int, key: str) -> ChainAction:
    args = [REMOTE_CHAIN, receiver, 0, deadline]
    return ChainAction("bridge.sendNative", {"args": args, "value": 1_000}, key)


async def _send_and_wait(adapter: EvmAdapter, action: ChainAction) -> int:
    receipt = await adapter.wait_receipt(await adapter.submit(action))
    assert receipt.success
    assert receipt.height is not None
    return receipt.height


def _receivers(events: list[ChainEvent]) -> list[bytes]:
    return [e.attributes["packet"].receiver for e in events]  # type: ignore[attr-defined]


def test_scanner_detects_a_reorg_rewinds_and_rescans_the_new_fork(
    env: Env, evm_settings: Settings
) -> None:
    deadline = env.chain.timestamp() + 3600

    async def scenario() -> None:
        async with EvmAdapter(evm_settings()) as adapter:
            rpc = adapter.reader
            common = await _send_and_wait(adapter, _send(b"\x0c" * 20, deadline, "common"))
            store = MemoryBlockHashStore()
            scanner = adapter.scanner(common, store)
            first = await scanner.scan(await adapter.latest_height())
            assert (first.start, first.end, len(first.logs), first.rewind) == (
                common,
                common,
                1,
                None,
            )

            snapshot = await rpc.call("evm_snapshot")
            for i in range(3):  # fork A: three blocks with one event each
                await _send_and_wait(adapter, _send(b"\x0a" * 20, deadline, f"fork-a-{i}"))
            fork_a_tip = await adapter.latest_height()
            batch = await scanner.scan(fork_a_tip)
            assert len(batch.logs) == 3
            assert batch.rewind is None
            stale_event = adapter.decode_event(batch.logs[0])
            assert stale_event is not None
            stale_proof = await adapter.prove(stale_event)  # fine while fork A is canonical

            assert await rpc.call("evm_revert", snapshot)
            adapter.nonces.invalidate()  # fork A's transactions are gone with it
            await rpc.call("evm_mine")  # fork B: an empty block, then two other events
            for i in range(2):
                await _send_and_wait(adapter, _send(b"\x0b" * 20, deadline, f"fork-b-{i}"))
            assert await adapter.latest_height() == fork_a_tip

            rescan = await scanner.scan(fork_a_tip)
            assert rescan.rewind is not None
            assert rescan.rewind.ancestor == common
            assert rescan.rewind.orphaned_tip == fork_a_tip
            assert (rescan.start, rescan.end) == (common + 1, fork_a_tip)
            events = [e for log in rescan.logs if (e := adapter.decode_event(log)) is not None]
            assert _receivers(events) == [b"\x0b" * 20] * 2
            assert store.get(fork_a_tip) == bytes.fromhex(
                (await adapter.blocks([fork_a_tip]))[0]["hash"][2:]  # type: ignore[index]
            )
            # the stateless read agrees with the scanner
            assert _receivers(await adapter.events(common + 1, fork_a_tip)) == [b"\x0b" * 20] * 2
            # an event read from the orphaned fork cannot be proven any more
            with pytest.raises(ReorgDetected):
                await adapter.prove(stale_event)
            assert stale_proof.height == stale_event.height

            idle = await scanner.scan(fork_a_tip)
            assert (idle.logs, idle.rewind) == ([], None)

    asyncio.run(scenario())


def test_a_reorg_deeper_than_the_bound_is_raised_not_rewound(
    env: Env, evm_settings: Settings
) -> None:
    deadline = env.chain.timestamp() + 3600

    async def scenario() -> None:
        async with EvmAdapter(evm_settings(max_reorg_depth=2)) as adapter:
            rpc = adapter.reader
            start = await _send_and_wait(adapter, _send(b"\x01" * 20, deadline, "start"))
            scanner = adapter.scanner(start)
            await scanner.scan(start)
            snapshot = await rpc.call("evm_snapshot")
            for i in range(4):
                await _send_and_wait(adapter, _send(b"\x0a" * 20, deadline, f"a-{i}"))
            await scanner.scan(await adapter.latest_height())
            assert await rpc.call("evm_revert", snapshot)
            adapter.nonces.invalidate()  # fork A's transactions are gone with it
            for i in range(5):
                await _send_and_wait(adapter, _send(b"\x0b" * 20, deadline, f"b-{i}"))
            with pytest.raises(ReorgDetected) as info:
                await scanner.scan(await adapter.latest_height())
            assert info.value.retryable
            assert "max_reorg_depth" in info.value.message

    asyncio.run(scenario())


def test_two_final_headers_of_two_forks_are_misbehaviour(env: Env, evm_settings: Settings) -> None:
    deadline = env.chain.timestamp() + 3600

    async def scenario() -> None:
        async with EvmAdapter(evm_settings(confirmations=1)) as adapter:
            rpc = adapter.reader
            client = adapter.light_client()
            state = adapter.settings.client_state()
            base = await _send_and_wait(adapter, _send(b"\x01" * 20, deadline, "base"))
            checkpoint = await adapter.header(base)
            trusted = client.consensus_state_from_checkpoint(
                adapter.chain_id, decode_header(checkpoint.encoded), checkpoint.hash
            )

            async def fork(receiver: bytes, label: str) -> HeaderUpdate:
                for i in range(2):  # the header and the one confirmation it needs
                    await _send_and_wait(adapter, _send(receiver, deadline, f"{label}-{i}"))
                return await adapter.header(base + 1)

            snapshot = await rpc.call("evm_snapshot")
            header_a = await fork(b"\x0a" * 20, "a")
            assert await rpc.call("evm_revert", snapshot)
            adapter.nonces.invalidate()  # fork A's transactions are gone with it
            header_b = await fork(b"\x0b" * 20, "b")
            assert header_a.hash != header_b.hash
            now = max(header_a.time, header_b.time) + 1
            # each fork's header is valid on its own ...
            client.verify_header(state, trusted, header_a, now)
            client.verify_header(state, trusted, header_b, now)
            # ... so together they are misbehaviour, and the client freezes
            assert client.check_misbehaviour(state, header_a, header_b, trusted=trusted, now=now)
            assert not client.check_misbehaviour(
                state, header_b, header_b, trusted=trusted, now=now
            )
            assert freeze_client(state, header_a.height).frozen_height == base + 1

    asyncio.run(scenario())

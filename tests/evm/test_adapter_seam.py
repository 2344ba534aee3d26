"""EvmAdapter on anvil: the ChainAdapter seam, headers, events of every kind, receipts, fees."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable

import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.certificate import (
    Packet,
    compute_delivered_digest,
    compute_not_delivered_digest,
    compute_packet_digest,
)
from adapters.evm.settings import EvmChainSettings
from core.errors import (
    ChainRejected,
    ConfigError,
    InsufficientPower,
    InvalidInput,
    NotFound,
)
from core.seams import ChainAdapter, LightClient
from core.types import ChainAction, EventKind
from proofs.evm.header import decode_header
from tests.fixtures.anvil import REMOTE_CHAIN, Env

Settings = Callable[..., EvmChainSettings]
NATIVE = "0x" + "00" * 20
SECRET = b"\x5a" * 32
HASHLOCK = hashlib.sha256(SECRET).digest()


def test_the_adapter_is_a_chain_adapter_of_the_configured_chain(
    env: Env, evm_settings: Settings
) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings()) as adapter:
            assert isinstance(adapter, ChainAdapter)
            assert adapter.family == "evm"
            assert adapter.chain_id == "anvil-31337"
            assert isinstance(adapter.light_client(), LightClient)
            await adapter.check_chain()
        async with EvmAdapter(evm_settings(evm_chain_id=1)) as wrong:
            with pytest.raises(ConfigError):
                await wrong.check_chain()

    asyncio.run(scenario())


def test_finalized_height_follows_the_configured_policy(env: Env, evm_settings: Settings) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings(confirmations=3)) as adapter:
            await adapter.reader.call("anvil_mine", "0x5")
            latest = await adapter.latest_height()
            assert await adapter.finalized_height() == latest - 3
        async with EvmAdapter(evm_settings(finality="qbft")) as bft:
            assert await bft.finalized_height() == latest

    asyncio.run(scenario())


def test_headers_verify_adjacent_and_skipping_with_their_confirmations(
    env: Env, evm_settings: Settings
) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings(confirmations=2, max_header_segment=8)) as adapter:
            await adapter.reader.call("anvil_mine", "0x6")
            tip = await adapter.latest_height()
            base = tip - 6
            client, state = adapter.light_client(), adapter.settings.client_state()
            checkpoint = await adapter.header(base)
            trusted = client.consensus_state_from_checkpoint(
                adapter.chain_id, decode_header(checkpoint.encoded), checkpoint.hash
            )
            now = checkpoint.time + 60
            adjacent = client.verify_header(state, trusted, await adapter.header(base + 1), now)
            skipping = client.verify_header(
                state, trusted, await adapter.header_update(base, base + 4), now
            )
            assert (adjacent.height, skipping.height) == (base + 1, base + 4)
            chained = client.verify_header(
                state, adjacent, await adapter.header_update(base + 1, base + 3), now
            )
            assert chained.hash == (await adapter.header(base + 3)).hash
            with pytest.raises(InsufficientPower):  # the tip has no confirmations yet
                client.verify_header(state, trusted, await adapter.header_update(base, tip), now)
            with pytest.raises(NotFound):
                await adapter.header(tip + 10)
            with pytest.raises(InvalidInput):  # 8 ancestors + 2 confirmations > 8 headers
                await adapter.header_update(0, 9)
            with pytest.raises(InvalidInput):
                await adapter.header_update(base + 2, base + 2)

    asyncio.run(scenario())


def _packet(args: dict[str, object]) -> Packet:
    packet = args["packet"]
    assert isinstance(packet, Packet)
    return packet


def test_events_decode_every_kind_the_hub_reacts_to_in_chain_order(
    env: Env, evm_settings: Settings
) -> None:
    deadline = env.chain.timestamp() + 3600
    inbound = env.inbound()
    certificate = env.certify(compute_packet_digest(env.domain, inbound))

    async def scenario() -> None:
        async with EvmAdapter(evm_settings()) as adapter:

            async def do(kind: str, args: list[object], key: str, value: int = 0) -> None:
                action = ChainAction(kind, {"args": args, "value": value}, key)
                receipt = await adapter.wait_receipt(await adapter.submit(action))
                assert receipt.success, kind

            start = await adapter.latest_height() + 1
            receiver = bytes.fromhex(env.bob[2:])
            for i in range(2):
                await do("bridge.sendNative", [REMOTE_CHAIN, receiver, 0, deadline], f"s{i}", 9)
            await do("bridge.receivePacket", [inbound.as_abi(), certificate], "recv")
            sent = await adapter.events(start, await adapter.latest_height())
            first, second = (_packet(e.attributes) for e in sent[:2])
            delivered = env.certify(compute_delivered_digest(env.domain, first))
            await do("bridge.acknowledgePacket", [first.as_abi(), delivered], "ack")
            not_delivered = env.certify(compute_not_delivered_digest(env.domain, second))
            await do("bridge.timeoutPacket", [second.as_abi(), not_delivered], "timeout")
            lock_args = [env.bob, HASHLOCK, deadline, NATIVE, 11]
            await do("htlc.lock", lock_args, "lock-1", 11)
            lock_id = await adapter.reader.call(
                "eth_call",
                {
                    "to": env.htlc.address,
                    "data": "0x"
                    + env.htlc.artifact.encode_call("computeId", adapter.address, *lock_args).hex(),
                },
                "latest",
            )
            await do("htlc.claim", [bytes.fromhex(lock_id[2:]), SECRET], "claim")
            refund_args = [env.bob, HASHLOCK, deadline - 1800, NATIVE, 12]
            await do("htlc.lock", refund_args, "lock-2", 12)
            # (evm_increaseTime is ignored while a block timestamp interval is set)
            await adapter.reader.call("evm_setNextBlockTimestamp", deadline)
            await adapter.reader.call("evm_mine")
            events = await adapter.events(start, await adapter.latest_height())
            refund_id = events[-1].attributes["id"]
            await do("htlc.refund", [refund_id], "refund")

            events = await adapter.events(start, await adapter.latest_height())
            assert [e.kind for e in events] == [
                EventKind.SEND_PACKET,
                EventKind.SEND_PACKET,
                EventKind.RECEIVE_PACKET,  # its VoucherCreated is not an event the hub reads
                EventKind.ACKNOWLEDGE_PACKET,
                EventKind.TIMEOUT_PACKET,
                EventKind.HTLC_LOCKED,
                EventKind.HTLC_CLAIMED,
                EventKind.HTLC_LOCKED,
                EventKind.HTLC_REFUNDED,
            ]
            assert [(e.height, e.position) for e in events] == sorted(
                (e.height, e.position) for e in events
            )
            assert all(e.chain_id == adapter.chain_id for e in events)
            send, _, recv, ack, timeout, locked, claimed, _, refunded = events
            assert _packet(send.attributes).sequence == 1
            assert send.attributes["sender"].lower() == adapter.address.lower()  # type: ignore[union-attr]
            assert _packet(recv.attributes) == inbound
            assert (ack.attributes["sequence"], timeout.attributes["sequence"]) == (1, 2)
            assert locked.attributes["id"] == claimed.attributes["id"] == bytes.fromhex(lock_id[2:])
            assert locked.attributes["amount"] == 11
            assert claimed.attributes["preimage"] == SECRET
            assert refunded.attributes["id"] == refund_id
            assert locked.attributes["contract"] == env.htlc.address
            # a range is read in chunks of log_range blocks: the same events with a range of 1
            async with EvmAdapter(evm_settings(log_range=1)) as narrow:
                assert await narrow.events(start, await adapter.latest_height()) == events
            with pytest.raises(InvalidInput):  # a reversed range is a caller's bug, as on Pujiang
                await adapter.events(start, start - 1)

    asyncio.run(scenario())


def test_receipts_report_pending_success_and_failure(env: Env, evm_settings: Settings) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings()) as adapter:
            rpc = adapter.reader
            await rpc.call("evm_setAutomine", False)
            try:
                pay = ChainAction("raw", {"to": env.bob, "value": 1}, "pay")
                tx_hash = await adapter.submit(pay)
                pending = await adapter.receipt(tx_hash)
                assert (pending.height, pending.success) == (None, None)
                # a call that reverts, sent with a fixed gas so that no estimate stops it
                unknown = ChainAction("htlc.refund", {"args": [b"\x01" * 32], "gas": 100_000}, "r")
                failing = await adapter.submit(unknown)
                await rpc.call("evm_mine")
            finally:
                await rpc.call("evm_setAutomine", True)
            ok, failed = await adapter.wait_receipts([tx_hash, failing])
            assert ok.success is True
            assert ok.height == await adapter.latest_height()
            assert (failed.success, failed.reason) == (False, "reverted")

    asyncio.run(scenario())


def test_fee_and_gas_caps_refuse_before_a_nonce_is_taken(env: Env, evm_settings: Settings) -> None:
    pay = ChainAction("raw", {"to": env.bob, "value": 1}, "capped")
    send = ChainAction(
        "bridge.sendNative",
        {"args": [REMOTE_CHAIN, b"\x01" * 20, 0, env.chain.timestamp() + 600], "value": 1},
        "gas",
    )
    nothing = ChainAction(
        "bridge.sendNative", {"args": [REMOTE_CHAIN, b"\x01" * 20, 0, 1], "value": 0}, "zero"
    )

    async def scenario() -> None:
        cheap = evm_settings(
            max_fee_per_gas_cap=10**9, max_priority_fee_cap=10**8, default_priority_fee=10**8
        )
        async with EvmAdapter(cheap) as adapter:
            with pytest.raises(ChainRejected) as info:
                await adapter.submit(pay)
            assert info.value.details["check"] == "fee-cap"
            assert "above the cap" in info.value.message
            assert adapter.nonces.next_nonce is None  # no nonce was reserved
        async with EvmAdapter(evm_settings(max_gas_per_tx=50_000)) as adapter:
            with pytest.raises(ChainRejected) as info:
                await adapter.submit(send)
            assert info.value.details["check"] == "gas-cap"
            with pytest.raises(ChainRejected) as info:
                await adapter.submit(nothing)
            assert info.value.details["reason"] == "Bridge: amount is zero"
            assert adapter.nonces.next_nonce is None
            pending = await adapter.reader.call(
                "eth_getTransactionCount", adapter.address, "pending"
            )
            latest = await adapter.reader.call("eth_getTransactionCount", adapter.address, "latest")
            assert pending == latest

    asyncio.run(scenario())


def test_a_read_only_adapter_refuses_to_sign_and_bad_actions_are_invalid(
    env: Env, evm_settings: Settings
) -> None:
    async def scenario() -> None:
        async with EvmAdapter(evm_settings(signer_key=None)) as reader:
            assert reader.address is None
            with pytest.raises(ConfigError):
                await reader.submit(ChainAction("raw", {"to": env.bob}, "k"))
        async with EvmAdapter(evm_settings(htlc_address=None)) as adapter:
            for action in (
                ChainAction("teleport", {}, "k1"),
                ChainAction("bridge.sendNative", {"args": ["too", "few"]}, "k2"),
                ChainAction("raw", {"to": env.bob, "value": -1}, "k3"),
                ChainAction("bridge.noSuchFunction", {"args": []}, "k4"),
            ):
                with pytest.raises(InvalidInput):
                    await adapter.submit(action)
            with pytest.raises(ConfigError):
                await adapter.submit(ChainAction("htlc.refund", {"args": [b"\x00" * 32]}, "k5"))

    asyncio.run(scenario())

"""Timed-out packets are refunded on their source by the relayer, with REAL notaries.

Real anvil, an in-process devnet node, a SqlStore, the relayer engine and
three ``notary.Notary`` objects fed by ``StoreWorkSource``: nobody
asks for a refund; the relayer's normal passes move a transfer whose
destination passed the timeout to ``timed_out``, the notaries sign
non-delivery only after proving at their verified final destination block
that the packet is not there, and the relayer refunds. Balances are read
from the chains.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from core.errors import PjgwError
from core.ids import ChainId
from core.records import ActionStatus
from core.states import TransferState
from core.types import ChainAction
from devnet import keys
from notary import PacketReceived, TimeoutNotReached, WorkItem
from proofs.notary.nondelivery import compute_evm_received_slot
from proofs.pujiang import codec
from relayer.engine import Relayer
from relayer.protocols.notary import REFUND
from relayer.settings import RelayerSettings
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.timeouts.helpers import (
    IN,
    OUT,
    Anvil,
    Notaries,
    TestClock,
    adapters_for,
    pujiang_settings,
)

AMOUNT = 1234
BOTH = frozenset({"delivery", "nondelivery"})
NONDELIVERY_ONLY = frozenset({"nondelivery"})  # "no notary signs delivery"
FAST = RelayerSettings(poll_interval=0.01, wait_interval=0.0, backoff_base=0.01, backoff_cap=0.05)
S = TransferState

ALICE = keys.account_key(DEVNET_SEED, 0)
ALICE_ADDRESS = codec.compute_address(bytes(ALICE.verify_key))


class Crash(BaseException):
    """The relayer process dies here (not an error it could handle: it escapes the engine)."""


def send_from_devnet(
    devnet: InProcessDevnet, receiver: str, *, timeout_height: int = 0, timeout_s: int = 0
) -> bytes:
    nonce = devnet.node.committed_nonce(ALICE_ADDRESS)
    args = [
        LOCAL_CHAIN.encode(),
        bytes.fromhex(receiver[2:]),
        b"upj",
        AMOUNT,
        timeout_height,
        timeout_s * 1000,
    ]
    tx_hash = devnet.node.submit(keys.sign_tx(ALICE, DEVNET, nonce, "bridge_send", args))
    devnet.node.produce_block()
    return tx_hash


def devnet_balance(devnet: InProcessDevnet) -> int:
    return devnet.node.balance(ALICE_ADDRESS, "upj")


def devnet_refunds(devnet: InProcessDevnet, sequence: int) -> int:
    """``timeout_packet`` events of the devnet bridge for (anvil, ``sequence``), from the node."""
    tip = devnet.node.tip.height
    found = devnet.node.query_events(max(1, tip - 900), tip, "timeout_packet", None, 1000)
    return sum(
        1
        for e in found["events"]  # type: ignore[index]
        if int(e["attributes"]["sequence"]) == sequence
        and e["attributes"]["dest_chain"] == LOCAL_CHAIN
    )


def anvil_events(env: Anvil, name: str) -> list[Any]:
    logs = env.chain.call(
        "eth_getLogs", {"address": env.bridge.address, "fromBlock": "0x0", "toBlock": "latest"}
    )
    return [e for e in env.chain._decode_logs(logs) if e.name == name]


class Hub:
    """A relayer 'process' and the three notaries, driven pass by pass."""

    def __init__(
        self,
        store: Any,
        devnet: InProcessDevnet,
        env: Anvil,
        clock: TestClock,
        data: Path,
        adapters: dict[ChainId, Any] | None = None,
        **changes: Any,
    ) -> None:
        self.store, self.devnet, self.env, self.clock = store, devnet, env, clock
        self.relayer = Relayer(
            store,
            adapters or adapters_for(devnet, env, signer=True),
            worker_id=f"relayer-{id(self)}",
            settings=FAST.model_copy(update=changes),
            clock=clock,
        )
        self.notaries = Notaries.start(store, devnet, env, data, clock)

    async def drive(
        self, source: str, tx_hash: bytes, until: TransferState, kinds: frozenset[str]
    ) -> Any:
        """Relayer pass, notary round, one devnet block; until the transfer is ``until``."""
        evm = self.relayer.adapters[ChainId(LOCAL_CHAIN)]
        for _ in range(80):
            self.clock.reach((await evm.header(await evm.latest_height())).time)
            await self.relayer.run_once()
            await self.notaries.round(kinds)
            found = self.store.transfer_by_source_tx(ChainId(source), tx_hash)
            if found is not None and found.state is until:
                return found
            self.devnet.node.produce_block()
            await asyncio.sleep(0.01)
        found = self.store.transfer_by_source_tx(ChainId(source), tx_hash)
        history = [h.reason for h in self.store.history(found.id)] if found else []
        raise AssertionError(f"not {until} after 80 passes: {history}; {self.notaries.refusals}")

    async def close(self) -> None:
        for adapter in self.relayer.adapters.values():
            await adapter.aclose()
        await self.notaries.close()


def nondelivery_item(t: Any) -> WorkItem:
    return WorkItem(
        transfer_id=t.id,
        route_id=t.route_id,
        source_chain=str(t.packet.source),
        dest_chain=str(t.packet.destination),
        sequence=t.packet.sequence,
        height=int(t.source_height),
        tx_hash=t.source_tx,
        position=tuple(t.source_position),
        kind="nondelivery",
    )


# --- devnet -> anvil -------------------------------------------------------------------------


def test_a_devnet_packet_nobody_delivers_is_refunded_on_the_devnet_after_its_anvil_timeout(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_s=deadline)
    assert devnet_balance(devnet) == before - AMOUNT

    async def scenario() -> Any:
        hub = Hub(store, devnet, evm, clock, tmp_path)
        try:
            await hub.drive(DEVNET, tx_hash, S.PROVEN, NONDELIVERY_ONLY)
            evm.travel(clock, deadline)  # anvil passes the timeout; the devnet's clock follows
            return await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(scenario())
    assert devnet_balance(devnet) == before
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert anvil_events(evm, "RecvPacket") == []
    states = [h.state for h in store.history(done.id)]
    assert states[-2:] == [S.TIMED_OUT, S.REFUNDED]
    assert store.action(done.id, REFUND).status is ActionStatus.SUCCEEDED


def test_a_packet_the_destination_cannot_take_waits_for_its_timeout_and_is_refunded(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    """A devnet packet whose timeout has milliseconds can never land on an EVM bridge (it
    keeps seconds): nobody can sign its delivery, so it is refunded after its timeout."""
    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    nonce = devnet.node.committed_nonce(ALICE_ADDRESS)
    receiver = bytes.fromhex(evm.alice[2:])
    args = [LOCAL_CHAIN.encode(), receiver, b"upj", AMOUNT, 0, deadline * 1000 + 500]
    tx_hash = devnet.node.submit(keys.sign_tx(ALICE, DEVNET, nonce, "bridge_send", args))
    devnet.node.produce_block()

    async def scenario() -> Any:
        hub = Hub(store, devnet, evm, clock, tmp_path)
        try:
            waiting = await hub.drive(DEVNET, tx_hash, S.PROVEN, BOTH)
            assert "undeliverable" in store.transfer(waiting.id).reason
            evm.travel(clock, deadline + 1)
            return await hub.drive(DEVNET, tx_hash, S.REFUNDED, BOTH)
        finally:
            await hub.close()

    done = asyncio.run(scenario())
    assert devnet_balance(devnet) == before
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert anvil_events(evm, "RecvPacket") == []


def test_a_packet_attested_for_delivery_but_not_delivered_before_its_timeout_is_refunded(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    before = devnet_balance(devnet)
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_height=evm.chain.block_number() + 40)

    async def scenario() -> tuple[Any, list[Any]]:
        # Per packet: a batch goes from attested to sent in one step (no slow relayer there).
        hub = Hub(store, devnet, evm, clock, tmp_path, steps_per_claim=1, attestation="packet")
        try:
            attested = await hub.drive(DEVNET, tx_hash, S.ATTESTED, BOTH)
            evm.mine(45)  # the relayer was too slow: anvil passed the timeout height
            done = await hub.drive(DEVNET, tx_hash, S.REFUNDED, BOTH)
            logs = [
                n.signed_log.signed(OUT, attested.packet.sequence) for n, _ in hub.notaries.members
            ]
            return done, logs
        finally:
            await hub.close()

    done, logs = asyncio.run(scenario())
    assert devnet_balance(devnet) == before
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert anvil_events(evm, "RecvPacket") == []
    # the notaries that attested delivery signed the non-delivery too, with the proof
    both = [log for log in logs if log is not None and set(log) == {"delivery", "nondelivery"}]
    assert len(both) >= 2
    assert store.equivocations() == []
    assert S.ATTESTED in [h.state for h in store.history(done.id)]


def test_a_crash_between_journaling_the_refund_and_sending_it_refunds_exactly_once(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    from adapters.pujiang import PujiangAdapter

    class DiesBeforeRefunding(PujiangAdapter):
        async def submit(self, action: ChainAction) -> bytes:
            if action.kind == "bridge_timeout":
                raise Crash("killed after journaling the refund, before sending it")
            return await super().submit(action)

    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_s=deadline)

    async def first_life() -> Any:
        adapters = adapters_for(devnet, evm, signer=True)
        await adapters[ChainId(DEVNET)].aclose()
        adapters[ChainId(DEVNET)] = DiesBeforeRefunding(
            pujiang_settings(devnet, signer=True), transport=devnet.transport
        )
        # Per packet: these two are the single refund's crash tests (``bridge_timeout``); the
        # refund batch's are in tests/timeouts/test_refund_batches.py.
        hub = Hub(
            store, devnet, evm, clock, tmp_path / "first", adapters=adapters, attestation="packet"
        )
        try:
            await hub.drive(DEVNET, tx_hash, S.PROVEN, NONDELIVERY_ONLY)
            evm.travel(clock, deadline)
            with pytest.raises(Crash):
                await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    asyncio.run(first_life())
    t = store.transfer_by_source_tx(ChainId(DEVNET), tx_hash)
    assert t.state is S.TIMED_OUT
    assert store.action(t.id, REFUND).status is ActionStatus.RECORDED
    assert devnet_refunds(devnet, t.packet.sequence) == 0

    async def second_life() -> Any:
        hub = Hub(store, devnet, evm, clock, tmp_path / "second", attestation="packet")
        try:
            return await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(second_life())
    for _ in range(3):
        devnet.node.produce_block()
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert devnet_balance(devnet) == before


def test_a_crash_after_sending_the_refund_before_marking_it_does_not_refund_twice(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    from adapters.pujiang import PujiangAdapter

    class DiesAfterRefunding(PujiangAdapter):
        async def submit(self, action: ChainAction) -> bytes:
            tx_hash = await super().submit(action)
            if action.kind == "bridge_timeout":
                raise Crash("killed after sending the refund, before marking it sent")
            return tx_hash

    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 20
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_s=deadline)

    async def first_life() -> None:
        adapters = adapters_for(devnet, evm, signer=True)
        await adapters[ChainId(DEVNET)].aclose()
        adapters[ChainId(DEVNET)] = DiesAfterRefunding(
            pujiang_settings(devnet, signer=True), transport=devnet.transport
        )
        # Per packet: these two are the single refund's crash tests (``bridge_timeout``); the
        # refund batch's are in tests/timeouts/test_refund_batches.py.
        hub = Hub(
            store, devnet, evm, clock, tmp_path / "first", adapters=adapters, attestation="packet"
        )
        try:
            await hub.drive(DEVNET, tx_hash, S.PROVEN, NONDELIVERY_ONLY)
            evm.travel(clock, deadline)
            with pytest.raises(Crash):
                await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    asyncio.run(first_life())
    devnet.node.produce_block()  # the refund sent before the crash lands
    t = store.transfer_by_source_tx(ChainId(DEVNET), tx_hash)
    assert store.action(t.id, REFUND).status is ActionStatus.RECORDED
    assert devnet_refunds(devnet, t.packet.sequence) == 1

    async def second_life() -> Any:
        hub = Hub(store, devnet, evm, clock, tmp_path / "second", attestation="packet")
        try:
            return await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(second_life())
    for _ in range(3):
        devnet.node.produce_block()
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert devnet_balance(devnet) == before
    assert store.action(done.id, REFUND).status is ActionStatus.SUCCEEDED


# --- the notary's refusals ---------------------------------------------------------------------


def test_a_notary_refuses_nondelivery_before_the_timeout_passed_at_its_verified_final_block(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    deadline = int(max(evm.timestamp(), clock())) + 3600
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_s=deadline)

    async def scenario() -> tuple[PjgwError | None, Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path)
        try:
            proven = await hub.drive(DEVNET, tx_hash, S.PROVEN, NONDELIVERY_ONLY)
            notary = hub.notaries.members[0][0]
            try:
                await notary.attest(nondelivery_item(proven))
            except PjgwError as err:
                return err, notary.signed_log.signed(OUT, proven.packet.sequence)
            return None, None
        finally:
            await hub.close()

    refused, signed = asyncio.run(scenario())
    assert isinstance(refused, TimeoutNotReached)
    assert refused.code == "notary-timeout-not-reached"
    assert signed is None


def test_a_notary_refuses_nondelivery_of_a_packet_the_destination_received(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_height=evm.chain.block_number() + 40)

    async def scenario() -> tuple[PjgwError | None, Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path)
        try:
            done = await hub.drive(DEVNET, tx_hash, S.COMPLETED, BOTH)
            evm.mine(45)  # the timeout passed too: only the proof of receipt stops the notary
            notary = hub.notaries.members[0][0]
            try:
                await notary.attest(nondelivery_item(done))
            except PjgwError as err:
                return err, done
            return None, done
        finally:
            await hub.close()

    refused, done = asyncio.run(scenario())
    assert isinstance(refused, PacketReceived)
    assert refused.code == "notary-packet-received"
    assert len(anvil_events(evm, "RecvPacket")) == 1
    # the slot the notary proved is the one Bridge.sol writes (pins EVM_RECEIVED_SLOT)
    slot = compute_evm_received_slot(DEVNET, done.packet.sequence)
    word = evm.chain.call("eth_getStorageAt", evm.bridge.address, "0x" + slot.hex(), "latest")
    assert int(word, 16) == 1


# --- anvil -> devnet -----------------------------------------------------------------------------


def test_an_anvil_packet_is_refunded_on_anvil_after_its_devnet_timeout(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    receiver = bytes.fromhex("44" * 20)
    timeout_height = devnet.node.tip.height + 30
    receipt = evm.bridge.transact(
        "sendNative", DEVNET, receiver, timeout_height, 0, sender=evm.alice, value=AMOUNT
    )
    tx_hash = bytes.fromhex(receipt.tx_hash.removeprefix("0x"))
    after_send = evm.chain.balance(evm.alice)

    async def scenario() -> Any:
        hub = Hub(store, devnet, evm, clock, tmp_path)
        try:
            await hub.drive(LOCAL_CHAIN, tx_hash, S.PROVEN, NONDELIVERY_ONLY)
            for _ in range(30):
                devnet.node.produce_block()  # the devnet passes the timeout height
            return await hub.drive(LOCAL_CHAIN, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    done = asyncio.run(scenario())
    assert done.route_id == IN
    assert evm.chain.balance(evm.alice) == after_send + AMOUNT
    assert len(anvil_events(evm, "TimeoutPacket")) == 1
    assert int(evm.bridge.view("escrowed", _route_key(DEVNET), "0x" + "00" * 20)) == 0


def _route_key(chain: str) -> bytes:
    from eth_hash.auto import keccak

    return keccak(chain.encode())

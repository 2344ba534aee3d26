"""Packets sent on the devnet WITHOUT the API, over a risk limit: held by the relayer.

Real anvil, an in-process devnet node, a SqlStore, the relayer engine and three real
notaries, one injected clock (``TestClock``, anvil and the devnet follow it). The
relayer screens a packet once it is proven on its source: over the window it rests in
``held`` (the batch goes on without it) and is released by itself once the clock
passes its release time, then delivered; over a review maximum it waits for a
supervisor, whose rejection sends it down the normal timeout path: ``timed_out`` once
the destination passed its timeout, then refunded on the devnet (balances read from
the chains).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.records import RiskLimitRecord
from core.states import TransferState
from gateway.app import create_app
from gateway.audit.context import acting_as
from gateway.settings import Settings
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import InProcessDevnet
from tests.timeouts.helpers import OUT, Anvil, TestClock
from tests.timeouts.test_refunds import (
    AMOUNT,
    BOTH,
    NONDELIVERY_ONLY,
    Hub,
    anvil_events,
    devnet_balance,
    devnet_refunds,
    send_from_devnet,
)

S = TransferState
WINDOW = 300


@pytest.mark.parametrize("attestation", ["batch", "packet"])
def test_a_direct_send_over_the_window_is_held_by_the_relayer_and_released_when_it_passes(
    devnet: InProcessDevnet,
    evm: Anvil,
    store: Any,
    clock: TestClock,
    tmp_path: Path,
    attestation: str,
) -> None:
    store.put_risk_limit(
        RiskLimitRecord(OUT, "upj", window_seconds=WINDOW, window_amount=AMOUNT * 3 // 2),
        clock(),
    )
    deadline = int(max(evm.timestamp(), clock())) + 3 * 3600

    async def scenario() -> tuple[Any, Any, Any, Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, attestation=attestation)
        try:
            first_tx = send_from_devnet(devnet, evm.alice, timeout_s=deadline)
            first = await hub.drive(DEVNET, first_tx, S.COMPLETED, BOTH)
            second_tx = send_from_devnet(devnet, evm.alice, timeout_s=deadline)
            held = await hub.drive(DEVNET, second_tx, S.HELD, BOTH)
            for _ in range(3):  # nothing is due before the release time
                await hub.relayer.run_once()
            still = store.transfer(held.id)
            evm.travel(clock, int(held.hold.release_at) + 1)  # the window passes
            done = await hub.drive(DEVNET, second_tx, S.COMPLETED, BOTH)
            return first, held, still, done
        finally:
            await hub.close()

    first, held, still, done = asyncio.run(scenario())
    assert first.admitted_at is not None
    assert held.created_by is None  # made by the relayer from the packet: no owner
    assert (held.hold.origin, held.hold.rule) == ("source", f"route:{OUT}/window/upj")
    assert held.hold.release_at == first.admitted_at + WINDOW
    assert f"{AMOUNT} of {AMOUNT * 3 // 2} already moved in the last {WINDOW} s" in held.reason
    assert (still.state, still.attempts) == (S.HELD, 0)
    states = [h.state for h in store.history(done.id)]
    assert states[states.index(S.PROVEN) :][:3] == [S.PROVEN, S.HELD, S.PROVEN]
    assert states[-1] is S.COMPLETED
    assert len(anvil_events(evm, "RecvPacket")) == 2  # each delivered once


def test_a_held_packet_a_supervisor_rejects_is_refunded_once_its_timeout_passes(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    store.put_risk_limit(RiskLimitRecord(OUT, "upj", max_amount=AMOUNT - 1), clock())
    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 60
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_s=deadline)

    async def scenario() -> tuple[Any, Any, Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, hold_recheck=1.0)
        try:
            held = await hub.drive(DEVNET, tx_hash, S.HELD, NONDELIVERY_ONLY)
            with acting_as("sup", "supervisor"):
                store.reject_held(held.id, "receiver under review", clock())
            await hub.relayer.run_once()  # before its timeout: it stays held
            waiting = store.transfer(held.id)
            evm.travel(clock, deadline)
            return held, waiting, await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
        finally:
            await hub.close()

    held, waiting, done = asyncio.run(scenario())
    assert held.hold.release_at is None  # a review hold: only a supervisor releases it
    assert "above the per-transfer maximum" in held.hold.reason
    assert (waiting.state, waiting.hold.decision) == (S.HELD, "rejected")
    assert devnet_balance(devnet) == before
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert anvil_events(evm, "RecvPacket") == []
    states = [h.state for h in store.history(done.id)]
    moves = [s for i, s in enumerate(states) if i == 0 or states[i - 1] is not s]
    assert moves[-4:] == [S.PROVEN, S.HELD, S.TIMED_OUT, S.REFUNDED]
    actors = {e["actor"] for e in store.audit_entries(subject_id=done.id)[0]}
    assert "sup" in actors


def test_tightening_a_limit_while_packets_are_in_flight_loses_none(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    deadline = int(max(evm.timestamp(), clock())) + 3 * 3600

    async def scenario() -> tuple[list[Any], list[Any], Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path)
        try:
            sent = [send_from_devnet(devnet, evm.alice, timeout_s=deadline) for _ in range(2)]
            for _ in range(40):  # until both are admitted and neither is delivered yet
                await hub.relayer.run_once()
                found = [store.transfer_by_source_tx(DEVNET, tx) for tx in sent]
                if all(t is not None and t.admitted_at is not None for t in found):
                    break
            in_flight = [store.transfer_by_source_tx(DEVNET, tx) for tx in sent]
            # Tightened below every amount while they travel: only what comes after is held.
            store.put_risk_limit(RiskLimitRecord(OUT, "upj", max_amount=1), clock())
            late = send_from_devnet(devnet, evm.alice, timeout_s=deadline)
            done = [await hub.drive(DEVNET, tx, S.COMPLETED, BOTH) for tx in sent]
            held = await hub.drive(DEVNET, late, S.HELD, BOTH)
            return in_flight, done, held
        finally:
            await hub.close()

    in_flight, done, held = asyncio.run(scenario())
    assert all(t.state not in (S.COMPLETED, S.HELD) for t in in_flight)
    assert [t.state for t in done] == [S.COMPLETED, S.COMPLETED]
    assert held.hold.rule == f"route:{OUT}/max/upj"
    assert len(anvil_events(evm, "RecvPacket")) == 2
    ids = {t.id for t in done} | {held.id}
    assert len(ids) == 3  # every packet is a transfer, none lost or doubled


def test_an_operator_forces_the_refund_of_a_packet_a_paused_route_left_past_its_timeout(
    devnet: InProcessDevnet, evm: Anvil, store: Any, clock: TestClock, tmp_path: Path
) -> None:
    """The route is paused (an incident) while a packet waits at ``proven``; its timeout
    passes on anvil. Before the timeout the API refuses to force its refund (409, read from
    anvil's clock); after it, the forced refund moves it to ``timed_out`` at once, and once
    the route resumes the relayer refunds it on the devnet."""
    before = devnet_balance(devnet)
    deadline = int(max(evm.timestamp(), clock())) + 60
    tx_hash = send_from_devnet(devnet, evm.alice, timeout_s=deadline)

    async def scenario() -> tuple[Any, int, Any, Any]:
        hub = Hub(store, devnet, evm, clock, tmp_path, attestation="packet")
        app = create_app(Settings(data_dir=tmp_path), store, hub.relayer.adapters, clock=clock)
        try:
            proven = await hub.drive(DEVNET, tx_hash, S.PROVEN, frozenset())
            with acting_as("ops", "admin"):
                store.pause_route(OUT, "incident: destination under investigation", clock())
            token = store.create_api_key("ops", "admin", clock())
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as api:
                url = f"/v1/transfers/{proven.id}/refund"
                body = {"reason": "route retired after the incident"}
                early = await api.post(url, json=body, headers={"X-API-Key": token})
                evm.travel(clock, deadline + 1)
                forced = await api.post(url, json=body, headers={"X-API-Key": token})
            assert forced.status_code == 200, forced.text
            moved = store.transfer(proven.id)
            with acting_as("ops", "admin"):
                store.resume_route(OUT, "refund forced; resuming", clock())
            done = await hub.drive(DEVNET, tx_hash, S.REFUNDED, NONDELIVERY_ONLY)
            return proven, early.status_code, moved, done
        finally:
            await hub.close()

    proven, early, moved, done = asyncio.run(scenario())
    assert proven.state is S.PROVEN
    assert early == 409
    assert moved.state is S.TIMED_OUT
    assert "refund forced by an operator" in moved.reason
    assert devnet_balance(devnet) == before
    assert devnet_refunds(devnet, done.packet.sequence) == 1
    assert anvil_events(evm, "RecvPacket") == []
    actions = [e["action"] for e in store.audit_entries(subject_id=done.id, limit=500)[0]]
    assert "transfer.force_refund" in actions

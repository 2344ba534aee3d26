"""The supervisor's levers and the operator tools on real chains: devnet node -> relayer -> anvil.

Each moves (or holds) a real transfer: a paused route's worker leases nothing
while the watcher still records the packet, and the transfer completes once the
route resumes; a transfer stuck in the relayer's backoff (its destination was
down) is delivered at once after "retry now"; a transfer no notary will sign
for is rejected onto the refund path and never delivered; a rewound chain cursor scans again
without a second transfer or delivery. Every step is in the audit log.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

import pytest

from adapters.evm.adapter import EvmAdapter
from core.ids import ChainId, Height
from core.states import TransferState
from gateway.audit.context import acting_as
from proofs.audit import validate_chain
from relayer import retry
from relayer.engine import Relayer
from relayer.protocols import base as protocols_base
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet
from tests.fixtures.relay import ROUTE, Anvil, pujiang_adapter, relay_evm_settings
from tests.relayer.test_engine_e2e import (
    AMOUNT,
    FAST,
    close,
    deliveries_on_anvil,
    drive,
    relayer_for,
    send_from_devnet,
    voucher_balance,
)


def _send(devnet: InProcessDevnet, evm: Anvil, store: Any) -> bytes:
    deadline = max(evm.chain.timestamp(), int(time.time())) + 3600
    return send_from_devnet(devnet, bytes.fromhex(evm.alice[2:]), deadline, store)


def _transfer(store: Any, tx_hash: bytes) -> Any:
    return store.transfer_by_source_tx(ChainId(DEVNET_CHAIN), tx_hash)


def _audit_actions(store: Any, transfer_id: str) -> list[str]:
    entries, _ = store.audit_entries(subject_id=transfer_id, limit=1000)
    return [e["action"] for e in entries]


def _chain_verifies(store: Any) -> None:
    entries, after = [], 0
    while True:
        page, cursor = store.audit_entries(after_seq=after, limit=1000)
        entries += page
        if cursor is None:
            break
        after = cursor
    assert validate_chain(entries).hash == store.audit_head()[1]


def test_a_paused_route_leases_nothing_and_delivers_after_resume(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    before = voucher_balance(evm, evm.alice)
    tx_hash = _send(devnet, evm, store)
    with acting_as("sup", "supervisor"):
        store.pause_route(ROUTE, "conservation check", time.time())

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-paused")
        try:
            for _ in range(5):
                await relayer.run_once()
            held = _transfer(store, tx_hash)
            status = relayer.route_status()[ROUTE]
            with acting_as("sup", "supervisor"):
                store.resume_route(ROUTE, "checked", time.time())
            done = await drive(relayer, store, devnet, evm, TransferState.COMPLETED, tx_hash)
            return held, status, done
        finally:
            await close(relayer)

    held, status, done = asyncio.run(scenario())
    # Recorded by the watcher (from a finalized range: straight in source_final), never
    # leased nor stepped while paused:
    assert held is not None
    assert held.state is TransferState.SOURCE_FINAL
    assert (held.lease_owner, held.attempts) == (None, 0)
    assert (status.state, status.reason) == ("paused", "conservation check")
    assert voucher_balance(evm, evm.alice) == before + AMOUNT
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    route_entries, _ = store.audit_entries(subject="route", actor="sup")
    assert [e["action"] for e in route_entries] == ["route.pause", "route.resume"]
    _chain_verifies(store)


def test_retry_now_delivers_a_transfer_stuck_in_backoff(
    devnet: InProcessDevnet, evm: Anvil, store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The backoff is full jitter (uniform up to the cap): drawn at the cap here, so "backed
    # off" is the hour it is meant to be (a draw under 600 s failed the check 1 run in 6).
    at_cap = functools.partial(retry.backoff_delay, rand=lambda _low, high: high)
    monkeypatch.setattr(protocols_base, "backoff_delay", at_cap)
    tx_hash = _send(devnet, evm, store)

    async def scenario() -> Any:
        # Per-packet mode: the transfer must rest in ``attested`` (a batch goes straight on).
        healthy = relayer_for(
            store, devnet, evm, "relayer-healthy", steps_per_claim=1, attestation="packet"
        )
        try:
            await drive(healthy, store, devnet, evm, TransferState.ATTESTED, tx_hash)
            # The destination goes down for a relayer with an hour-long backoff: its delivery
            # attempt fails and the transfer waits an hour.
            dead = EvmAdapter(
                relay_evm_settings(evm).model_copy(update={"rpc_url": "http://127.0.0.1:9"})
            )
            slow = FAST.model_copy(
                update={"backoff_base": 3600.0, "backoff_cap": 3600.0, "attestation": "packet"}
            )
            down = Relayer(
                store,
                {ChainId(DEVNET_CHAIN): pujiang_adapter(devnet), ChainId(LOCAL_CHAIN): dead},
                worker_id="relayer-down",
                settings=slow,
            )
            try:
                await down.run_once()
            finally:
                await close(down)
            stuck = _transfer(store, tx_hash)
            for _ in range(5):  # the healthy relayer finds nothing due
                await healthy.run_once()
            still = _transfer(store, tx_hash)
            with acting_as("ops", "admin"):
                store.retry_transfer_now(stuck.id, "destination RPC is back", time.time())
            for _ in range(6):
                await healthy.run_once()
            return stuck, still, _transfer(store, tx_hash)
        finally:
            await close(healthy)

    stuck, still, done = asyncio.run(scenario())
    assert stuck.state is TransferState.ATTESTED
    assert stuck.next_attempt_at > time.time() + 600  # backed off (jittered), not due
    assert still.state is TransferState.ATTESTED
    assert done.state in (TransferState.DEST_SUBMITTED, TransferState.COMPLETED)
    actions = _audit_actions(store, done.id)
    assert "transfer.retry_now" in actions
    assert actions.index("transfer.retry_now") < len(actions) - 1  # the relayer moved it after


def test_a_proven_transfer_no_notary_signs_is_rejected_onto_the_refund_path_never_delivered(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    tx_hash = _send(devnet, evm, store)

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-unsigned")
        try:
            for _ in range(30):  # no notary signs: it reaches proven and waits there
                await relayer.run_once()
                found = _transfer(store, tx_hash)
                if found is not None and found.state is TransferState.PROVEN:
                    break
            stuck = _transfer(store, tx_hash)
            with acting_as("ops", "admin"):
                store.reject_transfer(stuck.id, "notary committee unreachable", time.time())
            for _ in range(3):
                await relayer.run_once()
            return stuck, _transfer(store, tx_hash)
        finally:
            await close(relayer)

    stuck, after = asyncio.run(scenario())
    assert stuck.state is TransferState.PROVEN
    # Its packet is escrowed on the devnet: rejected means refunded once its timeout passes
    # (tests/timeouts/test_holds.py follows that path to the refund), never stranded.
    assert after.state is TransferState.HELD
    assert after.hold is not None
    assert after.hold.decision == "rejected"
    assert "notary committee unreachable" in after.reason
    assert "refunded once its timeout passes" in after.reason
    assert deliveries_on_anvil(evm, after.packet.sequence) == 0
    assert _audit_actions(store, after.id)[-1] == "transfer.reject"


def test_a_rewound_cursor_scans_again_without_a_second_transfer(
    devnet: InProcessDevnet, evm: Anvil, store: Any
) -> None:
    tx_hash = _send(devnet, evm, store)
    key = Relayer.chain_cursor_key(ChainId(DEVNET_CHAIN))

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-rewind")
        try:
            done = await drive(relayer, store, devnet, evm, TransferState.COMPLETED, tx_hash)
            scanned = store.cursor(key)
            floor = Height(int(store.route(ROUTE).settings["start_height"]) - 1)
            with acting_as("ops", "admin"):
                store.rewind_cursor_to(
                    key, floor, floor, "re-read a range", time.time(), chain_id=DEVNET_CHAIN
                )
            for _ in range(3):
                await relayer.run_once()
            return done, scanned, store.cursor(key)
        finally:
            await close(relayer)

    done, scanned, rescanned = asyncio.run(scenario())
    assert rescanned >= scanned
    transfers, _ = store.list_transfers(chain=ChainId(DEVNET_CHAIN))
    assert [t.id for t in transfers if t.source_tx == tx_hash] == [done.id]
    assert deliveries_on_anvil(evm, done.packet.sequence) == 1
    rewinds, _ = store.audit_entries(action="cursor.rewind")
    assert rewinds[-1]["before"]["height"] == scanned


def test_a_frozen_light_client_unfreezes_with_a_new_anchor_and_the_route_delivers(
    devnet: InProcessDevnet, evm: Anvil, store: Any, tmp_path: Any
) -> None:
    """The devnet client freezes (as the follower persists a freeze); the route stops; an admin
    gives a new trust anchor through the API (a wrong hash is refused), and the transfer sent
    meanwhile is delivered."""
    import dataclasses

    import httpx
    from pydantic import SecretStr

    from gateway.app import create_app
    from gateway.settings import Settings

    first = _send(devnet, evm, store)
    run = relayer_for(store, devnet, evm, "relayer-before")

    async def before() -> None:
        try:
            await drive(run, store, devnet, evm, TransferState.COMPLETED, first)
        finally:
            await close(run)

    asyncio.run(before())
    chain = ChainId(DEVNET_CHAIN)
    trusted = store.client(chain)
    store.save_client(
        dataclasses.replace(
            trusted, frozen=True, frozen_reason="fork at height 3", evidence=b"conflicting header"
        )
    )
    second = _send(devnet, evm, store)
    admin = "unfreeze-admin"
    api_adapter = pujiang_adapter(devnet)
    app = create_app(
        Settings(data_dir=tmp_path, dev_api_key=SecretStr(admin)),
        store,
        {DEVNET_CHAIN: api_adapter},
    )

    async def scenario() -> Any:
        relayer = relayer_for(store, devnet, evm, "relayer-after")
        try:
            for _ in range(3):
                await relayer.run_once()
            stopped = relayer.route_status()[ROUTE]
            waiting = _transfer(store, second)
            height = devnet.node.height
            header = await api_adapter.header(Height(height))
            good = "0x" + api_adapter.client_codec().header_hash(header).hex()
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://hub"
            ) as hub:
                url = f"/v1/chains/{DEVNET_CHAIN}/client/unfreeze"
                headers = {"X-API-Key": admin}
                wrong = await hub.post(
                    url,
                    json={"height": height, "hash": "0x" + "00" * 32, "reason": "x"},
                    headers=headers,
                )
                ok = await hub.post(
                    url,
                    json={"height": height, "hash": good, "reason": "fork resolved off-chain"},
                    headers=headers,
                )
                again = await hub.post(
                    url, json={"height": height, "hash": good, "reason": "again"}, headers=headers
                )
            done = await drive(relayer, store, devnet, evm, TransferState.COMPLETED, second)
            return stopped, waiting, wrong, ok, again, done
        finally:
            await close(relayer)
            await api_adapter.aclose()

    stopped, waiting, wrong, ok, again, done = asyncio.run(scenario())
    assert stopped.state != "running"
    assert "frozen" in stopped.reason
    assert waiting is None  # a stopped route does not even scan
    assert wrong.status_code == 422, wrong.text
    assert ok.status_code == 200, ok.text
    assert ok.json()["frozen"] is False
    assert again.status_code == 409
    assert done.state is TransferState.COMPLETED
    entries, _ = store.audit_entries(subject="chain", subject_id=DEVNET_CHAIN)
    actions = [e["action"] for e in entries]
    assert actions[-2:] == ["client.freeze", "client.unfreeze"]
    unfreeze = entries[-1]
    assert unfreeze["actor"] == "dev"
    assert unfreeze["before"]["frozen_reason"] == "fork at height 3"
    _chain_verifies(store)

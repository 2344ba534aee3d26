"""Circuit breakers on the dev stack: a route stops itself (issue #17).

Real chains (the devnet in process, a real anvil with ``Bridge.sol``), one relayer on a
``SqlStore``; each breaker's cause is made for real, and one check pass of the breakers
(``Relayer.check_breakers``, what the engine's ``breakers`` task runs every
``breaker_interval``) pauses the route, with a reason naming the breaker, audited as
``breaker:<name>``, counted in the metrics and shown by ``GET /v1/routes``:

* ``conservation``: vouchers minted on anvil without escrow on the devnet (the
  conservation test's forgery: a packet never sent, certified by the committee keys);
* ``client_frozen``: the devnet node serves a second valid header at a height the hub's
  light client trusts (``DevnetNode.serve_fork``), which freezes the client;
* ``failure_rate``: the anvil bridge is paused by its admin, so every delivery is refused.

A paused route's transfers are not lost: after the cause is removed and an operator
resumes the route, the refused transfers are delivered.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from adapters.evm.bridge import EvmBridge
from adapters.evm.certificate import BridgeDomain
from core.errors import ClientFrozen
from core.ids import ChainId
from core.states import TransferState
from core.types import Packet
from gateway.app import create_app
from gateway.audit.context import acting_as
from gateway.settings import Settings
from proofs.notary.ecdsa import sign
from relayer.breakers import BREAKERS_TASK
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.relay import NOTARIES, NOTARY_KEYS, THRESHOLD
from tests.flows.conservation import Asset, ConservationBroken, check_conservation
from tests.flows.helpers import ANVIL_TO_DEVNET, DEVNET_TO_ANVIL, Flows, close, sign_all_proven

UPJ = Asset(DEVNET_CHAIN, "upj")


def forge_vouchers(flows: Flows, amount: int, sequence: int = 99) -> None:
    """Mint ``amount`` upj vouchers on anvil for a packet the devnet never sent."""
    forged = Packet(
        source_chain=ChainId(DEVNET_CHAIN),
        dest_chain=ChainId(LOCAL_CHAIN),
        sequence=sequence,
        sender=flows.alice_devnet,
        receiver=flows.alice_anvil,
        denom="upj",
        amount=amount,
        payload=b"",
        timeout_height=0,
        timeout_time_ms=flows.anvil_deadline_s() * 1000,
    )
    bridge = EvmBridge(
        ChainId(LOCAL_CHAIN),
        BridgeDomain(EVM_CHAIN_ID, flows.evm.bridge.address),
        THRESHOLD,
        NOTARIES,
    )
    digest = bridge.delivery_digest(forged)
    action = bridge.deliver_action(forged, [sign(k, digest) for k in NOTARY_KEYS[:THRESHOLD]])
    flows.evm.bridge.transact("receivePacket", *action.payload["args"], sender=flows.evm.admin)


def routes_api(flows: Flows, tmp_path: Any) -> dict[str, Any]:
    """``GET /v1/routes`` of a hub on the same store, by route id."""
    app = create_app(Settings(data_dir=tmp_path, dev_api_key=SecretStr("k")), flows.store, {})

    async def ask() -> dict[str, Any]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as hub:
            answer = await hub.get("/v1/routes", headers={"X-API-Key": "k"})
            assert answer.status_code == 200, answer.text
            return {r["route_id"]: r for r in answer.json()}

    return asyncio.run(ask())


def breaker_entries(flows: Flows, name: str) -> list[dict[str, Any]]:
    entries, _ = flows.store.audit_entries(subject="route", actor=f"breaker:{name}")
    return list(entries)


def trips_metric(relayer: Any, route: str, breaker: str) -> float | None:
    return relayer.metrics.registry.get_sample_value(
        "pjgw_relayer_breaker_trips_total", {"route": route, "breaker": breaker}
    )


def test_vouchers_minted_on_anvil_without_escrow_stop_both_routes_of_the_pair_in_one_check(
    flows: Flows, tmp_path: Any
) -> None:
    delivered = flows.devnet_send(flows.alice_anvil, "upj", 500)
    flows.run(DEVNET_CHAIN, delivered)
    flows.devnet_send(flows.alice_anvil, "upj", 300)  # stays in flight

    async def before() -> tuple[list[Any], list[Any]]:
        relayer = flows.relayer("relayer-balanced")
        try:
            # The watcher records the second packet (requested, on the source): in flight.
            await relayer.watch_chain(ChainId(DEVNET_CHAIN))
            ledgers = await relayer.breakers.ledgers(
                flows.store.route(DEVNET_TO_ANVIL), flows.store.routes()
            )
            return await relayer.check_breakers(), ledgers
        finally:
            await close(relayer)

    async def after() -> tuple[list[Any], Any]:
        relayer = flows.relayer("relayer-breakers")
        try:
            return await relayer.check_breakers(), relayer
        finally:
            await close(relayer)

    balanced, ledgers = asyncio.run(before())
    forge_vouchers(flows, 700)
    tripped, relayer = asyncio.run(after())
    assert balanced == []
    (ledger,) = ledgers
    assert (ledger.escrowed, ledger.vouchers, ledger.out, ledger.back) == (800, 500, 300, 0)
    assert [(t.route_id, t.breaker, t.paused) for t in tripped] == [
        (DEVNET_TO_ANVIL, "conservation", True),
        (ANVIL_TO_DEVNET, "conservation", True),
    ]
    with pytest.raises(ConservationBroken):  # the chains agree with the breaker
        check_conservation(*flows.views(), [UPJ])
    reason = flows.store.route(DEVNET_TO_ANVIL).paused_reason
    assert reason.startswith("breaker conservation: conservation broken: upj of pujiang-devnet")
    for figure in ("escrowed 800", "vouchers 1200", "in flight 300", "deficit 700"):
        assert figure in reason
    assert flows.store.route(ANVIL_TO_DEVNET).paused_reason.startswith(
        f"breaker conservation: the reverse route {DEVNET_TO_ANVIL} is unbalanced"
    )
    listed = routes_api(flows, tmp_path)
    assert listed[DEVNET_TO_ANVIL]["paused_reason"] == reason
    entries = breaker_entries(flows, "conservation")
    assert [(e["action"], e["subject_id"]) for e in entries] == [
        ("route.pause", DEVNET_TO_ANVIL),
        ("route.pause", ANVIL_TO_DEVNET),
    ]
    assert entries[0]["after"] == {"paused_reason": reason}
    assert trips_metric(relayer, DEVNET_TO_ANVIL, "conservation") == 1.0
    deficit = relayer.metrics.registry.get_sample_value(
        "pjgw_relayer_conservation_deficit", {"route": DEVNET_TO_ANVIL, "denom": "upj"}
    )
    assert deficit == 700.0


def test_a_second_check_of_a_tripped_pair_writes_nothing_more(flows: Flows) -> None:
    """Idempotent under two relayers: each checks, the store's compare-and-set pause
    decides; the second finds the routes paused and leaves them (and the audit log) be."""
    flows.run(DEVNET_CHAIN, flows.devnet_send(flows.alice_anvil, "upj", 100))
    forge_vouchers(flows, 5)

    async def scenario() -> tuple[list[Any], list[Any]]:
        one, two = flows.relayer("relayer-one"), flows.relayer("relayer-two")
        try:
            first = await one.check_breakers()
            second = await two.check_breakers()
            return first, second
        finally:
            await close(one)
            await close(two)

    first, second = asyncio.run(scenario())
    assert [t.paused for t in first] == [True, True]
    assert second == []
    assert len(breaker_entries(flows, "conservation")) == 2


def test_a_conflicting_header_freezes_the_client_and_the_breaker_pauses_its_routes(
    flows: Flows,
) -> None:
    done = flows.run(DEVNET_CHAIN, flows.devnet_send(flows.alice_anvil, "upj", 100))
    height = int(done.source_height)

    async def scenario() -> tuple[list[Any], str]:
        relayer = flows.relayer("relayer-fork")
        try:
            flows.devnet.node.serve_fork(height)  # a second valid header where the hub trusts one
            with pytest.raises(ClientFrozen) as frozen:
                await relayer.keeper.verified_at(ChainId(DEVNET_CHAIN), height, recheck=True)
            return await relayer.check_breakers(), str(frozen.value)
        finally:
            await close(relayer)

    tripped, frozen = asyncio.run(scenario())
    assert "fork: two valid headers" in frozen
    assert {(t.route_id, t.breaker) for t in tripped} == {
        (DEVNET_TO_ANVIL, "client_frozen"),
        (ANVIL_TO_DEVNET, "client_frozen"),
    }
    reason = flows.store.route(DEVNET_TO_ANVIL).paused_reason
    assert reason.startswith(f"breaker client_frozen: the light client of {DEVNET_CHAIN} is frozen")
    assert "fork: two valid headers" in reason
    assert flows.store.client(ChainId(DEVNET_CHAIN)).frozen
    assert {e["subject_id"] for e in breaker_entries(flows, "client_frozen")} == {
        DEVNET_TO_ANVIL,
        ANVIL_TO_DEVNET,
    }


def test_refused_deliveries_trip_the_failure_rate_and_the_transfers_deliver_after_resume(
    flows: Flows,
) -> None:
    evm = flows.evm
    evm.bridge.transact("pause", sender=evm.admin)  # the destination refuses every delivery
    sent = [flows.devnet_send(flows.alice_anvil, "upj", 10 + i) for i in range(2)]
    settings = {
        "attestation": "packet",
        "config_backoff": 0.05,
        "breaker_failure_min": 2,
        "breaker_failure_window": 4,
        "breaker_failure_rate": 0.5,
        "breakers": ("failure_rate",),
    }

    async def refused() -> tuple[list[Any], list[Any]]:
        relayer = flows.relayer("relayer-refused", **settings)
        try:
            tripped: list[Any] = []
            for _ in range(80):
                await relayer.run_once()
                await sign_all_proven(flows.store, relayer, time.time())
                flows.devnet.node.produce_block()
                tripped = await relayer.check_breakers()
                if tripped:
                    break
                await asyncio.sleep(0.01)
            paused = [flows.transfer_of(DEVNET_CHAIN, tx) for tx in sent]
            for _ in range(5):  # paused: nothing is leased, nothing moves
                await relayer.run_once()
            still = [flows.transfer_of(DEVNET_CHAIN, tx) for tx in sent]
            assert [t.state for t in still] == [t.state for t in paused]
            return tripped, paused
        finally:
            await close(relayer)

    async def resumed() -> list[Any]:
        relayer = flows.relayer("relayer-resumed", **settings)
        try:
            return [await flows.drive(relayer, DEVNET_CHAIN, tx) for tx in sent]
        finally:
            await close(relayer)

    tripped, paused = asyncio.run(refused())
    evm.bridge.transact("unpause", sender=evm.admin)
    with acting_as("ops", "admin"):
        flows.store.resume_route(DEVNET_TO_ANVIL, "bridge unpaused", time.time())
    done = asyncio.run(resumed())
    assert [(t.route_id, t.breaker, t.paused) for t in tripped] == [
        (DEVNET_TO_ANVIL, "failure_rate", True)
    ]
    assert all(t.state is TransferState.ATTESTED for t in paused), [t.state for t in paused]
    assert [t.state for t in done] == [TransferState.COMPLETED, TransferState.COMPLETED]
    entries, _ = flows.store.audit_entries(subject="route", subject_id=DEVNET_TO_ANVIL)
    moves = [(e["action"], e["actor"]) for e in entries if e["action"].startswith("route.p")]
    moves += [(e["action"], e["actor"]) for e in entries if e["action"] == "route.resume"]
    assert moves == [("route.pause", "breaker:failure_rate"), ("route.resume", "ops")]
    pause = next(e for e in entries if e["action"] == "route.pause")
    assert pause["reason"].startswith("breaker failure_rate: 2 of the last 2 deliveries failed")
    assert flows.store.route(DEVNET_TO_ANVIL).paused_reason is None
    check_conservation(*flows.views(), [UPJ])


def test_the_running_relayer_stops_a_forged_route_by_itself_at_its_next_check(
    flows: Flows,
) -> None:
    """``Relayer.run``: the ``breakers`` task (interval injected) pauses the route with no
    call from the test; the test only waits for the pauses, a bounded number of looks.
    The pair's two pauses are two commits, so the test waits for both, not the first."""
    flows.run(DEVNET_CHAIN, flows.devnet_send(flows.alice_anvil, "upj", 100))
    forge_vouchers(flows, 9)

    async def scenario() -> str | None:
        relayer = flows.relayer("relayer-running", breaker_interval=0.05)
        stop = asyncio.Event()
        running = asyncio.create_task(relayer.run(stop))
        try:
            for _ in range(400):
                paused = flows.store.route(DEVNET_TO_ANVIL).paused_reason
                reverse = flows.store.route(ANVIL_TO_DEVNET).paused_reason
                if paused is not None and reverse is not None:
                    return paused
                await asyncio.sleep(0.05)
            return None
        finally:
            stop.set()
            await running
            await close(relayer)

    paused = asyncio.run(scenario())
    assert paused is not None
    assert paused.startswith("breaker conservation: conservation broken: upj of pujiang-devnet")
    assert "deficit 9" in paused
    assert [e["subject_id"] for e in breaker_entries(flows, "conservation")] == [
        DEVNET_TO_ANVIL,
        ANVIL_TO_DEVNET,
    ]


def test_the_engine_runs_the_breakers_as_a_task_of_their_own_every_breaker_interval(
    flows: Flows,
) -> None:
    relayer = flows.relayer("relayer-tasks", breaker_interval=7.0)
    try:
        wanted = relayer._wanted_tasks(flows.store.routes())
        assert BREAKERS_TASK in wanted
        none = flows.relayer("relayer-none", breakers=())
        assert BREAKERS_TASK not in none._wanted_tasks(flows.store.routes())
        asyncio.run(close(none))
    finally:
        asyncio.run(close(relayer))
    assert relayer.settings.breaker_interval == 7.0

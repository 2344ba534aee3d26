"""Risk holds end to end through the API: anvil -> devnet, the API and the relayer on one clock.

A window limit on the route's native coin (1.5 transfers' worth per 120 s): the first
client-signed send posted to the API is admitted and delivered; the second answers 202
``held`` with the rule, a readable reason and its release time, and nothing is sent on
anvil while it is held (the relayer passes over it); once the injected clock passes the
release time the relayer screens it again, sends the journaled transaction and it lands
on the devnet. A third, held too, is cancelled by the key that created it: ``rejected``,
never sent. The app is ``gateway.app.create_app`` on the relayer's store and adapters.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx

from adapters.evm.adapter import EvmAdapter
from core.ids import ChainId
from core.policies import PolicyRule
from core.records import RiskLimitRecord
from core.states import TransferState
from gateway.app import create_app
from gateway.audit.context import acting_as
from gateway.settings import Settings
from relayer.engine import Relayer
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.relay import pujiang_adapter
from tests.flows.conservation import NATIVE
from tests.flows.helpers import ANVIL_TO_DEVNET, FAST, Flows, anvil_settings, close, sign_all_proven
from tests.flows.test_api_evm_source import WEI, signed_send_native

S = TransferState
WINDOW = 120


class Clock:
    """Wall time plus an offset a test moves forward (the API's and the relayer's clock)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def _anvil_tx(flows: Flows, tx_hash: str) -> Any:
    return flows.evm.chain.call("eth_getTransactionByHash", tx_hash)


def test_a_send_over_the_window_is_held_then_released_when_the_window_passes_and_delivered(
    flows: Flows, tmp_path: Any
) -> None:
    store = flows.store
    token = store.create_api_key("app", "client", time.time())
    store.put_risk_limit(
        RiskLimitRecord(ANVIL_TO_DEVNET, NATIVE, window_seconds=WINDOW, window_amount=WEI * 3 // 2),
        time.time(),
    )
    clock = Clock()

    def body(raw: bytes, deadline: int) -> dict[str, Any]:
        return {
            "route_id": ANVIL_TO_DEVNET,
            "kind": "asset",
            "sender": flows.evm.alice,
            "receiver": "0x" + flows.alice_devnet.hex(),
            "denom": NATIVE,
            "amount": str(WEI),
            "timeout_seconds": deadline,
            "signed_tx": "0x" + raw.hex(),
        }

    async def scenario() -> dict[str, Any]:
        adapters = {
            ChainId(DEVNET_CHAIN): pujiang_adapter(flows.devnet),
            ChainId(LOCAL_CHAIN): EvmAdapter(anvil_settings(flows.evm)),
        }
        relayer = Relayer(store, adapters, worker_id="relayer-holds", settings=FAST, clock=clock)
        app = create_app(Settings(data_dir=tmp_path), store, relayer.adapters, clock=clock)
        out: dict[str, Any] = {}
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as api:

                async def post() -> httpx.Response:
                    # The test chain's client runs its own loop: off this one, in a thread.
                    deadline = await asyncio.to_thread(flows.anvil_deadline_s)
                    raw = await asyncio.to_thread(
                        signed_send_native, flows, flows.alice_devnet, deadline
                    )
                    headers = {"X-API-Key": token, "Idempotency-Key": str(uuid.uuid4())}
                    return await api.post(
                        "/v1/transfers", json=body(raw, deadline), headers=headers
                    )

                first = await post()
                assert first.status_code == 201, first.text
                tx1 = bytes.fromhex(first.json()["source_tx"][2:])
                await flows.drive(relayer, LOCAL_CHAIN, tx1)

                second = await post()
                out["second"] = second
                held = second.json()
                for _ in range(5):  # held: the relayer sends nothing for it
                    await relayer.run_once()
                out["while_held"] = store.transfer(held["id"])
                out["on_anvil_while_held"] = await asyncio.to_thread(
                    _anvil_tx, flows, held["source_tx"]
                )
                clock.offset += WINDOW + 1  # the first transfer ages out of the window
                tx2 = bytes.fromhex(held["source_tx"][2:])
                out["done"] = await flows.drive(relayer, LOCAL_CHAIN, tx2)
                shown = await api.get(f"/v1/transfers/{held['id']}")
                out["history"] = [h["state"] for h in shown.json()["history"]]

                third = await post()
                out["third"] = third.json()
                cancel = await api.post(
                    f"/v1/transfers/{third.json()['id']}/cancel",
                    json={"reason": "sent by mistake"},
                    headers={"X-API-Key": token},
                )
                out["cancel"] = cancel
                for _ in range(3):
                    await relayer.run_once()
                out["after_cancel"] = store.transfer(third.json()["id"])
        finally:
            await close(relayer)
        return out

    out = asyncio.run(scenario())
    second = out["second"]
    assert second.status_code == 202, second.text
    hold = second.json()["hold"]
    assert hold["rule"] == f"route:{ANVIL_TO_DEVNET}/window/{NATIVE}"
    assert f"already moved in the last {WINDOW} s" in hold["reason"]
    assert "the window allows it at" in hold["reason"]
    assert out["while_held"].state is S.HELD
    assert out["on_anvil_while_held"] is None  # journaled, never broadcast while held
    assert out["done"].state is S.COMPLETED
    assert out["history"][:3] == ["requested", "held", "requested"]
    assert out["history"][-1] == "completed"
    assert flows.devnet.node.balance(flows.alice_devnet, f"{LOCAL_CHAIN}/{NATIVE}") == 2 * WEI
    assert out["third"]["state"] == "held"
    assert out["cancel"].status_code == 200, out["cancel"].text
    assert out["after_cancel"].state is S.REJECTED
    assert "cancelled by its owner: sent by mistake" in out["after_cancel"].reason
    assert _anvil_tx(flows, out["third"]["source_tx"]) is None


def test_a_held_send_the_client_broadcasts_itself_is_tracked_and_checked_as_a_direct_call(
    flows: Flows, tmp_path: Any
) -> None:
    """Holding a ``signed_tx`` cannot stop its owner from broadcasting it: the packet it makes
    is a transfer of its own, screened once proven (held again here), and the held request
    is closed (``rejected``), so nothing is tracked twice and nothing is stranded."""
    store = flows.store
    token = store.create_api_key("app", "client", time.time())
    store.put_risk_limit(RiskLimitRecord(ANVIL_TO_DEVNET, NATIVE, max_amount=WEI - 1), time.time())
    deadline = flows.anvil_deadline_s()
    raw = signed_send_native(flows, flows.alice_devnet, deadline)
    body = {
        "route_id": ANVIL_TO_DEVNET,
        "kind": "asset",
        "sender": flows.evm.alice,
        "receiver": "0x" + flows.alice_devnet.hex(),
        "denom": NATIVE,
        "amount": str(WEI),
        "timeout_seconds": deadline,
        "signed_tx": "0x" + raw.hex(),
    }

    async def scenario() -> tuple[Any, Any, Any, Any]:
        relayer = flows.relayer("relayer-bypass")
        app = create_app(Settings(data_dir=tmp_path), store, relayer.adapters)
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as api:
                headers = {"X-API-Key": token, "Idempotency-Key": str(uuid.uuid4())}
                created = await api.post("/v1/transfers", json=body, headers=headers)
            assert created.status_code == 202, created.text
            request = created.json()
            tx_hash = bytes.fromhex(request["source_tx"][2:])
            await asyncio.to_thread(
                flows.evm.chain.call, "eth_sendRawTransaction", "0x" + raw.hex()
            )
            packet = None
            for _ in range(60):
                await relayer.run_once()
                flows.devnet.node.produce_block()
                packet = next(
                    (
                        t
                        for t in store.list_transfers(limit=10)[0]
                        if t.source_tx == tx_hash and t.packet is not None
                    ),
                    None,
                )
                if packet is not None and packet.state is S.HELD:
                    break
            assert packet is not None
            closed = store.transfer(request["id"])
            with acting_as("sup", "supervisor"):
                store.release_held(packet.id, "reviewed", time.time())
            for _ in range(60):
                await relayer.run_once()
                await sign_all_proven(store, relayer, time.time())
                flows.devnet.node.produce_block()
                if store.transfer(packet.id).state is S.COMPLETED:
                    break
            return request, closed, packet, store.transfer(packet.id)
        finally:
            await close(relayer)

    request, closed, packet, done = asyncio.run(scenario())
    assert request["state"] == "held"
    assert closed.state is S.REJECTED
    assert f"its packet is transfer {packet.id}" in closed.reason
    assert (packet.hold.origin, packet.hold.rule) == (
        "source",
        f"route:{ANVIL_TO_DEVNET}/max/{NATIVE}",
    )
    assert done.state is S.COMPLETED
    assert flows.devnet.node.balance(flows.alice_devnet, f"{LOCAL_CHAIN}/{NATIVE}") == WEI


def test_a_direct_bridge_call_a_payload_policy_names_is_held_by_the_relayer_for_review(
    flows: Flows,
) -> None:
    """No API involved: a send made on anvil straight to the bridge is screened by the relayer
    once proven; the route's payload policy holds it for review (no release time, the rule
    named, the decision in the audit log); a supervisor's release lets it be delivered."""
    store = flows.store
    store.set_payload_policy(
        ANVIL_TO_DEVNET,
        [
            PolicyRule(
                name="review-native", kind="denom", action="hold", mode="deny", values=(NATIVE,)
            )
        ],
        time.time(),
    )
    deadline = flows.anvil_deadline_s()
    raw = signed_send_native(flows, flows.alice_devnet, deadline)

    async def scenario() -> tuple[Any, Any]:
        relayer = flows.relayer("relayer-policy")
        try:
            await asyncio.to_thread(
                flows.evm.chain.call, "eth_sendRawTransaction", "0x" + raw.hex()
            )
            held = None
            for _ in range(60):
                await relayer.run_once()
                flows.devnet.node.produce_block()
                held = next(
                    (t for t in store.list_transfers(limit=10)[0] if t.state is S.HELD), None
                )
                if held is not None:
                    break
            assert held is not None
            with acting_as("sup", "supervisor"):
                store.release_held(held.id, "reviewed: a known counterparty", time.time())
            for _ in range(60):
                await relayer.run_once()
                await sign_all_proven(store, relayer, time.time())
                flows.devnet.node.produce_block()
                if store.transfer(held.id).state is S.COMPLETED:
                    break
            return held, store.transfer(held.id)
        finally:
            await close(relayer)

    held, done = asyncio.run(scenario())
    assert held.hold is not None
    assert (held.hold.origin, held.hold.rule, held.hold.release_at) == (
        "source",
        f"policy:{ANVIL_TO_DEVNET}/review-native",
        None,
    )
    decisions, _ = store.audit_entries(action="policy.decision", subject_id=held.id)
    assert [(e["after"]["verdict"], e["after"]["origin"]) for e in decisions] == [
        ("hold", "source")
    ]
    assert done.state is S.COMPLETED
    assert flows.devnet.node.balance(flows.alice_devnet, f"{LOCAL_CHAIN}/{NATIVE}") == WEI

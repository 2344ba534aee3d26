"""EVM as a transfer SOURCE through the API: a client-signed anvil transaction, end to end.

``POST /v1/transfers`` with ``signed_tx`` on the route anvil -> devnet
journals the signed bytes as a ``raw_tx`` action; the relayer sends them
as is (``EvmAdapter.submit``, ``eth_sendRawTransaction``), the watcher finds
the packet by the transaction's hash, and the devnet credits the voucher.
The app is ``gateway.app.create_app`` on the same ``SqlStore`` and adapters
the relayer uses, over ``httpx.ASGITransport``.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
from eth_account import Account
from eth_utils import to_checksum_address

from adapters.evm.adapter import RAW_TX, EvmAdapter
from adapters.evm.artifacts import load_artifact
from core.types import ChainAction
from gateway.app import create_app
from gateway.settings import Settings
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.flows.conservation import NATIVE, Asset, check_conservation
from tests.flows.helpers import ANVIL_TO_DEVNET, Flows, anvil_settings, close

WEI = 3 * 10**15
GWEI = 10**9


def signed_send_native(flows: Flows, receiver: bytes, deadline: int) -> bytes:
    """alice's ``Bridge.sendNative`` signed with her key (EIP-1559), not sent."""
    alice = flows.evm.node.accounts[1]
    data = load_artifact("Bridge").encode_call("sendNative", DEVNET_CHAIN, receiver, 0, deadline)
    nonce = int(flows.evm.chain.call("eth_getTransactionCount", alice.address, "pending"), 16)
    tx = {
        "type": 2,
        "chainId": EVM_CHAIN_ID,
        "nonce": nonce,
        "to": to_checksum_address(flows.evm.bridge.address),
        "value": WEI,
        "data": data,
        "gas": 400_000,
        "maxFeePerGas": 100 * GWEI,
        "maxPriorityFeePerGas": GWEI,
    }
    return bytes(Account.sign_transaction(tx, alice.private_key).raw_transaction)


def test_a_signed_anvil_send_posted_to_the_api_is_sent_by_the_relayer_and_lands_on_the_devnet(
    flows: Flows, tmp_path: Any
) -> None:
    store = flows.store
    token = store.create_api_key("app", "client", time.time())
    deadline = flows.anvil_deadline_s()
    raw = signed_send_native(flows, flows.alice_devnet, deadline)
    voucher = f"{LOCAL_CHAIN}/{NATIVE}"
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

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        relayer = flows.relayer("relayer-api")
        app = create_app(Settings(data_dir=tmp_path), store, relayer.adapters)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as api:
                headers = {"X-API-Key": token, "Idempotency-Key": str(uuid.uuid4())}
                created = await api.post("/v1/transfers", json=body, headers=headers)
                assert created.status_code == 201, created.text
                first = created.json()
                assert first["state"] == "requested"
                assert [a["kind"] for a in first["actions"]] == [RAW_TX]
                tx_hash = bytes.fromhex(first["source_tx"][2:])
                await flows.drive(relayer, LOCAL_CHAIN, tx_hash)
                shown = await api.get(f"/v1/transfers/{first['id']}", headers=headers)
                return first, shown.json()
        finally:
            await close(relayer)

    first, shown = asyncio.run(scenario())
    assert shown["state"] == "completed"
    assert shown["source_tx"] == first["source_tx"]
    assert shown["packet"]["source"] == LOCAL_CHAIN
    steps = {a["step"]: a for a in shown["actions"]}
    assert steps["ack"]["status"] == "succeeded"
    assert steps["ack"]["tx_hash"] == shown["dest_tx"]
    assert flows.devnet.node.balance(flows.alice_devnet, voucher) == WEI
    receipt = flows.evm.chain.call("eth_getTransactionReceipt", first["source_tx"])
    assert int(receipt["status"], 16) == 1  # the client's own bytes, mined on anvil
    check_conservation(*flows.views(), [Asset(LOCAL_CHAIN, NATIVE)])


def test_a_raw_tx_submitted_again_after_it_was_mined_returns_its_hash_and_is_not_resent(
    flows: Flows,
) -> None:
    raw = signed_send_native(flows, flows.alice_devnet, flows.anvil_deadline_s())
    action = ChainAction(RAW_TX, {"tx": "0x" + raw.hex()}, "tx:test")

    async def scenario() -> tuple[bytes, bytes, bytes]:
        async with EvmAdapter(anvil_settings(flows.evm)) as adapter:
            first = await adapter.submit(action)
            await adapter.wait_receipt(first)
            again = await adapter.submit(action)  # mined: nonce used, hash known
            unsigned = EvmAdapter(anvil_settings(flows.evm).model_copy(update={"signer_key": None}))
            try:
                third = await unsigned.submit(action)  # needs no signer of its own
            finally:
                await unsigned.aclose()
            return first, again, third

    first, again, third = asyncio.run(scenario())
    assert first == again == third
    sent = flows.evm.chain.call("eth_getTransactionByHash", "0x" + first.hex())
    assert sent is not None
    assert int(sent["value"], 16) == WEI
    check_conservation(*flows.views(), [Asset(LOCAL_CHAIN, NATIVE)])

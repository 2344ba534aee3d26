"""The conservation reader itself: the devnet's supply query, and a law that can fail.

``tests/flows/conservation.py`` is imported by the other flow tests and by the
fault tests; here it is shown to catch a broken law (a voucher minted on anvil
without any escrow on the devnet) and the devnet's ``GET /v1/supply`` it reads
is checked against the genesis balances.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.evm.bridge import EvmBridge
from adapters.evm.certificate import BridgeDomain
from core.ids import ChainId
from core.types import Packet
from devnet.genesis import GENESIS_BALANCES
from proofs.notary.ecdsa import sign
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet
from tests.fixtures.relay import NOTARIES, NOTARY_KEYS, THRESHOLD
from tests.flows.conservation import Asset, ConservationBroken, check_conservation
from tests.flows.helpers import Flows


def supply(devnet: InProcessDevnet, denom: str) -> dict[str, object]:
    async def ask() -> dict[str, object]:
        async with httpx.AsyncClient(transport=devnet.transport, base_url=devnet.url) as client:
            answer = await client.get("/v1/supply", params={"denom": denom})
            answer.raise_for_status()
            return dict(answer.json())

    return asyncio.run(ask())


def test_devnet_supply_is_the_sum_of_every_account_and_counts_the_escrow(flows: Flows) -> None:
    node = flows.devnet.node
    accounts = node.config.accounts
    genesis = supply(flows.devnet, "upj")
    assert genesis["supply"] == str(GENESIS_BALANCES["upj"] * accounts)
    assert genesis["holders"] == accounts

    flows.devnet_send(flows.alice_anvil, "upj", 500)  # 500 leave alice for the escrow
    after = supply(flows.devnet, "upj")
    assert after["supply"] == genesis["supply"]
    assert after["holders"] == accounts + 1
    assert after["height"] == node.height


def test_devnet_supply_of_a_denom_nobody_holds_is_zero(devnet: InProcessDevnet) -> None:
    devnet.node.produce_block()
    assert supply(devnet, f"{LOCAL_CHAIN}/native") | {"height": 0} == {
        "denom": f"{LOCAL_CHAIN}/native",
        "supply": "0",
        "holders": 0,
        "height": 0,
    }


def test_a_voucher_minted_on_anvil_without_escrow_on_the_devnet_breaks_the_law(
    flows: Flows,
) -> None:
    forged = Packet(
        source_chain=ChainId(DEVNET_CHAIN),
        dest_chain=ChainId(LOCAL_CHAIN),
        sequence=99,  # never sent on the devnet
        sender=flows.alice_devnet,
        receiver=flows.alice_anvil,
        denom="upj",
        amount=700,
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

    with pytest.raises(ConservationBroken, match="escrowed 0 != outstanding 700"):
        check_conservation(*flows.views(), [Asset(DEVNET_CHAIN, "upj")])

"""Bridge endpoints across families: a real anvil (``Bridge.sol``) and a real devnet node.

Each direction end to end through the seam only: a packet sent on one chain,
read back with the source's ``bridge().packet_of``, certified by notary keys
over the destination's ``delivery_digest``, delivered with the destination's
``deliver_action`` and accepted there; a certificate over another digest is
rejected by the destination chain itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable, Iterator

import pytest
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.errors import ChainRejected
from core.seams import BridgeEndpoint
from core.types import ChainAction, EventKind
from devnet import keys
from proofs.notary.ecdsa import sign
from proofs.pujiang import codec
from tests.fixtures.anvil import LOCAL_CHAIN, THRESHOLD, Env
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet, account_seed

Settings = Callable[..., EvmChainSettings]
DEVNET_NOTARIES = [bytes(keys.notary_key(DEVNET_SEED, i).secret) for i in range(2)]


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    """A devnet node in this process (blocks on ``produce_block()``), as ``devnet_node``."""
    import httpx

    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-bridge"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()


def pujiang(devnet: InProcessDevnet) -> PujiangAdapter:
    settings = PujiangSettings(
        url=devnet.url,
        chain_id=DEVNET_CHAIN,
        insecure_plaintext_key=True,
        relayer_key=account_seed(1).hex(),
        retry_attempts=1,
    )
    return PujiangAdapter(settings, transport=devnet.transport)


def evm(env: Env, evm_settings: Settings) -> EvmAdapter:
    members = tuple(n.address for n in env.committee)
    return EvmAdapter(evm_settings(committee_threshold=THRESHOLD, committee=members))


def send_upj_from_devnet(devnet: InProcessDevnet, receiver: bytes, deadline_s: int) -> bytes:
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    args = [LOCAL_CHAIN.encode(), receiver, b"upj", 1234, 0, deadline_s * 1000]
    tx_hash = devnet.node.submit(keys.sign_tx(alice, DEVNET_CHAIN, nonce, "bridge_send", args))
    devnet.node.produce_block()
    return tx_hash


def test_evm_bridge_is_a_bridge_endpoint_with_the_configured_committee(
    env: Env, evm_settings: Settings
) -> None:
    bridge = evm(env, evm_settings).bridge()
    assert isinstance(bridge, BridgeEndpoint)
    threshold, members = bridge.committee()
    assert threshold == THRESHOLD
    assert members == tuple(n.address.lower() for n in env.committee)


def test_a_devnet_packet_certified_with_the_anvil_digest_mints_the_voucher_on_anvil(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings
) -> None:
    deadline = max(env.chain.timestamp(), int(time.time())) + 3600
    receiver = bytes.fromhex(env.alice[2:])
    tx_hash = send_upj_from_devnet(devnet, receiver, deadline)

    async def scenario() -> tuple[object, ...]:
        async with pujiang(devnet) as source, evm(env, evm_settings) as dest:
            tip = await source.latest_height()
            (sent,) = [e for e in await source.events(tip, tip) if e.tx_hash == tx_hash]
            packet = source.bridge().packet_of(sent)
            bridge = dest.bridge()
            digest = bridge.delivery_digest(packet)
            wrong = env.certify(bridge.delivery_digest(dataclasses.replace(packet, amount=1)))
            with pytest.raises(ChainRejected) as refused:
                await dest.submit(bridge.deliver_action(packet, wrong))
            receipt = await dest.wait_receipt(
                await dest.submit(bridge.deliver_action(packet, env.certify(digest)))
            )
            assert receipt.height is not None
            events = await dest.events(receipt.height, receipt.height)
            delivered = any(bridge.is_delivered_event(e, packet) for e in events)
            return packet, refused.value, receipt, delivered

    packet, refused, receipt, delivered = asyncio.run(scenario())
    assert packet.dest_chain == LOCAL_CHAIN  # type: ignore[attr-defined]
    assert packet.timeout_time_ms == deadline * 1000  # type: ignore[attr-defined]
    assert "signer not in committee" in str(refused)
    assert receipt.success is True  # type: ignore[attr-defined]
    assert delivered
    voucher = env.bridge.view("voucherOf", keccak(f"{DEVNET_CHAIN}/upj".encode()))
    assert env.chain.at("WrappedToken", voucher).view("balanceOf", env.alice) == 1234


def test_an_anvil_packet_certified_with_the_devnet_digest_is_received_on_the_devnet(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings
) -> None:
    receiver = b"\x5a" * 20
    deadline = max(env.chain.timestamp(), int(time.time())) + 3600
    send = ChainAction(
        "bridge.sendNative",
        {"args": [DEVNET_CHAIN, receiver, 0, deadline], "value": 5},
        "endpoint-send-1",
    )

    async def scenario() -> tuple[object, ...]:
        async with evm(env, evm_settings) as source, pujiang(devnet) as dest:
            sent_receipt = await source.wait_receipt(await source.submit(send))
            assert sent_receipt.height is not None
            (sent,) = [
                e
                for e in await source.events(sent_receipt.height, sent_receipt.height)
                if e.kind is EventKind.SEND_PACKET
            ]
            packet = source.bridge().packet_of(sent)
            bridge = dest.bridge()
            digest = bridge.delivery_digest(packet)
            wrong = [sign(k, source.bridge().nondelivery_digest(packet)) for k in DEVNET_NOTARIES]
            refused_tx = await dest.submit(bridge.deliver_action(packet, wrong))
            devnet.node.produce_block()
            refused = await dest.receipt(refused_tx)
            good = [sign(k, digest) for k in DEVNET_NOTARIES]
            accepted = await dest.submit(bridge.deliver_action(packet, good))
            devnet.node.produce_block()
            return packet, refused, await dest.receipt(accepted)

    packet, refused, accepted = asyncio.run(scenario())
    assert packet.sender == bytes.fromhex(env.relayer[2:])  # type: ignore[attr-defined]
    assert packet.timeout_time_ms == deadline * 1000  # type: ignore[attr-defined]
    assert refused.success is False  # type: ignore[attr-defined]
    assert refused.reason.startswith("bad-certificate")  # type: ignore[attr-defined]
    assert accepted.success is True  # type: ignore[attr-defined]
    assert devnet.node.balance(receiver, f"{LOCAL_CHAIN}/native") == 5

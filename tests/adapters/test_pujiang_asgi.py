"""PujiangAdapter against the real devnet app in-process (``httpx.ASGITransport``, no socket).

What the conformance kit cannot say generically: a ``bridge_recv`` built and
signed by the adapter is executed by the chain once and refused as a replay
the second time; the node's real refusals arrive as the right errors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
import pytest

from adapters.pujiang import PujiangAdapter, PujiangSettings, actions
from core.errors import ChainRejected, ConfigError, InvalidInput, NotFound
from core.ids import Height
from core.types import EventKind, HeaderUpdate
from devnet import keys
from proofs.pujiang import codec
from proofs.pujiang.light_client import decode_header_evidence
from tests.fixtures.devnet import CHAIN_ID, DEVNET_SEED, InProcessDevnet, account_seed

T = TypeVar("T")

RELAYER = 1  # bob signs deliveries
SENDER = 3  # dave signs the raw transactions of these tests


def adapter_for(devnet: InProcessDevnet, **overrides: Any) -> PujiangAdapter:
    options = {
        "url": devnet.url,
        "chain_id": CHAIN_ID,
        "insecure_plaintext_key": True,
        "relayer_key": account_seed(RELAYER).hex(),
        "retry_attempts": 1,
    }
    return PujiangAdapter(PujiangSettings(**(options | overrides)), transport=devnet.transport)


def run(devnet: InProcessDevnet, call: Callable[[PujiangAdapter], Awaitable[T]], **kw: Any) -> T:
    async def go() -> T:
        async with adapter_for(devnet, **kw) as adapter:
            return await call(adapter)

    return asyncio.run(go())


def incoming_packet(sequence: int) -> codec.Packet:
    return codec.Packet(
        source_chain=b"evm-1",
        dest_chain=CHAIN_ID.encode(),
        sequence=sequence,
        sender=b"\x11" * 20,
        receiver=b"\x22" * 20,
        denom=b"uusdc",
        amount=5,
        payload=b"",
        timeout_height=0,
        timeout_time_ms=(int(time.time()) + 3600) * 1000,
    )


def certify(packet: codec.Packet, notaries: int = 2) -> bytes:
    digest = codec.compute_packet_digest(packet)
    signers = [keys.notary_key(DEVNET_SEED, i) for i in range(notaries)]
    return codec.encode(keys.sign_certificate(signers, digest))


def test_bridge_recv_executes_once_and_its_replay_fails_on_chain(
    devnet_node: InProcessDevnet,
) -> None:
    packet = incoming_packet(sequence=1)
    action = actions.bridge_recv_action(packet, certify(packet))

    async def deliver_twice(adapter: PujiangAdapter) -> list[Any]:
        first = await adapter.submit(action)
        pending = await adapter.receipt(first)
        devnet_node.node.produce_block()
        done = await adapter.receipt(first)
        assert done.height is not None
        events = await adapter.events(done.height, done.height)
        second = await adapter.submit(action)  # signed again at the next nonce
        devnet_node.node.produce_block()
        return [first, pending, done, events, second, await adapter.receipt(second)]

    first, pending, done, events, second, replay = run(devnet_node, deliver_twice)
    assert (pending.height, pending.success) == (None, None)
    assert done.success is True
    (received,) = [e for e in events if e.tx_hash == first]
    assert received.kind is EventKind.RECEIVE_PACKET
    assert received.attributes["packet"] == codec.encode(packet)
    assert second != first
    assert replay.success is False
    assert replay.reason.startswith("replayed-packet")
    assert devnet_node.node.balance(packet.receiver, b"evm-1/uusdc") == 5


def test_resubmitting_the_same_signed_bytes_returns_the_same_hash(
    devnet_node: InProcessDevnet,
) -> None:
    packet = incoming_packet(sequence=2)

    async def build_and_post_twice(adapter: PujiangAdapter) -> tuple[bytes, bytes, Any]:
        tx = await adapter.build_transaction(actions.bridge_recv_action(packet, certify(packet)))
        first = await adapter.submit(actions.raw_tx_action(tx))  # the relayer journaled `tx`
        again = await adapter.submit(actions.raw_tx_action(tx))  # ... and re-sends after a crash
        devnet_node.node.produce_block()
        third = await adapter.submit(actions.raw_tx_action(tx))  # even once committed
        assert third == first
        return first, again, await adapter.receipt(first)

    first, again, receipt = run(devnet_node, build_and_post_twice)
    assert first == again
    assert receipt.success is True


def test_a_certificate_below_the_threshold_fails_on_chain_with_its_reason(
    devnet_node: InProcessDevnet,
) -> None:
    packet = incoming_packet(sequence=3)
    action = actions.bridge_recv_action(packet, certify(packet, notaries=1))

    async def deliver(adapter: PujiangAdapter) -> Any:
        tx_hash = await adapter.submit(action)
        devnet_node.node.produce_block()
        return await adapter.receipt(tx_hash)

    receipt = run(devnet_node, deliver)
    assert receipt.success is False
    assert receipt.reason.startswith("bad-certificate")


def signed_transfer(nonce: int, *, signer_index: int = SENDER) -> bytes:
    signer = actions.TxSigner(account_seed(signer_index))
    return actions.build_signed_tx(signer, CHAIN_ID, nonce, "transfer", [b"\x33" * 20, b"upj", 1])


def test_the_node_refusing_a_tx_is_chain_rejected_with_its_reason(
    devnet_node: InProcessDevnet,
) -> None:
    wrong_nonce = signed_transfer(nonce=99)
    with pytest.raises(ChainRejected, match="wrong-nonce") as caught:
        run(devnet_node, lambda a: a.submit(actions.raw_tx_action(wrong_nonce)))
    assert caught.value.details["status"] == 409

    body = codec.decode_transaction(signed_transfer(nonce=0))
    forged = codec.encode(body.copy(signature=bytes(64)))
    with pytest.raises(ChainRejected, match="bad-signature"):
        run(devnet_node, lambda a: a.submit(actions.raw_tx_action(forged)))


def test_reads_outside_the_chain_are_not_found_or_invalid(devnet_node: InProcessDevnet) -> None:
    async def reads(adapter: PujiangAdapter) -> None:
        tip = await adapter.latest_height()
        with pytest.raises(NotFound):
            await adapter.header(Height(tip + 5))
        with pytest.raises(NotFound):
            await adapter.receipt(b"\x44" * 32)
        with pytest.raises(InvalidInput, match="at most 1000"):  # the node's own bound
            await adapter.node.get("/v1/events", {"from": 1, "to": 5000})

    run(devnet_node, reads)


def test_events_over_more_than_one_chunk_match_a_single_request(
    devnet_node: InProcessDevnet,
) -> None:
    for _ in range(3):
        devnet_node.node.produce_block()

    async def both(adapter: PujiangAdapter) -> tuple[Any, Any]:
        tip = await adapter.latest_height()
        return await adapter.events(Height(1), tip), tip

    whole, tip = run(devnet_node, both)
    chunked, _ = run(devnet_node, both, range_size=2, page_limit=1)
    assert whole
    assert [(e.height, e.position) for e in chunked] == [(e.height, e.position) for e in whole]
    assert all(1 <= e.height <= tip for e in whole)


def test_an_adapter_configured_for_another_chain_refuses_the_node(
    devnet_node: InProcessDevnet,
) -> None:
    with pytest.raises(ConfigError, match="serves chain 'pujiang-devnet'"):
        run(devnet_node, lambda a: a.latest_height(), chain_id="pujiang-other")


def test_the_registry_finds_the_builtin_pujiang_adapter() -> None:
    from adapters.registry import discover

    cls = discover().load("pujiang")
    assert cls is PujiangAdapter
    adapter = cls.from_options({"url": "http://127.0.0.1:1", "chain_id": CHAIN_ID})
    assert adapter.family == "pujiang"
    with pytest.raises(ConfigError, match="url"):
        cls.from_options({"url": "nope", "chain_id": CHAIN_ID})


class CountingTransport(httpx.AsyncBaseTransport):
    """The devnet's ASGI transport, counting requests per first two path segments."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.paths: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append("/".join(request.url.path.split("/")[:3]))
        return await self.inner.handle_async_request(request)


def test_a_validator_set_is_fetched_once_for_the_headers_it_signs(
    devnet_node: InProcessDevnet,
) -> None:
    devnet_node.node.produce_block()
    counting = CountingTransport(devnet_node.transport)
    adapter = PujiangAdapter(
        PujiangSettings(url=devnet_node.url, chain_id=CHAIN_ID), transport=counting
    )

    async def three_headers() -> list[HeaderUpdate]:
        async with adapter:
            tip = await adapter.latest_height()
            return [await adapter.header(Height(h)) for h in range(tip - 2, tip + 1)]

    headers = asyncio.run(three_headers())
    assert len({decode_header_evidence(h.evidence)[1] for h in headers}) == 1  # one set
    assert counting.paths.count("/v1/blocks") == 3
    assert counting.paths.count("/v1/validators") == 1

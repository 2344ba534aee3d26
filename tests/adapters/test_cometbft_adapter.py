"""The CometBFT adapter's own behaviour on the recording of real light blocks.

``CometBftRecording`` (see its docstring) stands in for a node, which cannot
run here. Only the last test uses a hand-written answer: ``FakeCometNode``
serves a ``block_results``/``block``/``tx`` shaped as CometBFT v0.38 writes
them, because no vector holds transactions or events; it carries nothing
signed and checks only how the adapter reads those shapes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from typing import Any

import httpx
import pytest

from adapters.cometbft import CometBftAdapter, CometBftSettings
from adapters.cometbft.rpc import CometRpcError, HeightUnavailable
from adapters.registry import discover
from adapters.sdk import check_seam_version, settings_model_of, validate_settings
from core.errors import ChainError, ConfigError, InvalidInput, NotFound
from core.ids import Height
from core.types import ChainAction, EventKind
from proofs.cometbft import decode_envelope, trusted_header
from tests.adapters.cometbft_recording import MODEL_BASED, CometBftRecording
from tests.fixtures.vectors import vectors_dir

VALSET_HALVES = "MC4_4_faulty_TestValsetHalves.json"


def adapter_on(transport: httpx.AsyncBaseTransport, chain_id: str, **extra: Any) -> CometBftAdapter:
    settings = CometBftSettings(
        chain_id=chain_id, rpc_url="http://recording.invalid:26657", **extra
    )
    return CometBftAdapter(settings, transport=transport)


async def _with(adapter: CometBftAdapter, coro: Any) -> Any:
    try:
        return await coro
    finally:
        await adapter.aclose()


def test_header_is_the_vector_light_block_exactly() -> None:
    """header(4) holds the vector's own light block at 4, read over paged /validators."""
    recording = CometBftRecording(vectors_dir(), VALSET_HALVES)
    adapter = adapter_on(recording, recording.chain_id, validators_per_page=1)
    got = asyncio.run(_with(adapter, adapter.header(Height(4))))
    data = json.loads((vectors_dir() / MODEL_BASED / VALSET_HALVES).read_text())
    block = next(
        s["block"] for s in data["input"] if s["block"]["signed_header"]["header"]["height"] == "4"
    )
    expected = trusted_header(
        {k: block[k] for k in ("signed_header", "validator_set", "next_validator_set")}
    )
    # The vector's sets carry extra fields (total power, proposer) that /validators never
    # sends: the envelopes hold the same header, commit and sets, parsed.
    assert (got.encoded, got.hash, got.time) == (expected.encoded, expected.hash, expected.time)
    assert decode_envelope(got) == decode_envelope(expected)
    sizes = (
        len(block["validator_set"]["validators"]),
        len(block["next_validator_set"]["validators"]),
    )
    assert recording.calls.count("validators") == sum(sizes)  # one page per validator


def test_pruned_height_is_not_found() -> None:
    """A height below the node's lowest answers CometBFT's 'not available' -> NotFound."""
    recording = CometBftRecording(vectors_dir(), VALSET_HALVES)
    adapter = adapter_on(recording, recording.chain_id)
    with pytest.raises(HeightUnavailable) as caught:
        asyncio.run(_with(adapter, adapter.header(Height(1))))
    assert isinstance(caught.value, NotFound)


def test_a_node_of_another_chain_is_refused() -> None:
    """latest_height refuses a node whose network is not the configured chain id."""
    recording = CometBftRecording(vectors_dir(), VALSET_HALVES)
    adapter = adapter_on(recording, "other-chain")
    with pytest.raises(ChainError, match="serves chain"):
        asyncio.run(_with(adapter, adapter.latest_height()))


def test_events_on_the_recording_fail_loudly() -> None:
    """The recording has no block_results: events() raises, it never returns a made-up list."""
    recording = CometBftRecording(vectors_dir(), VALSET_HALVES)
    adapter = adapter_on(recording, recording.chain_id)
    with pytest.raises(CometRpcError, match="not in the recording"):
        asyncio.run(_with(adapter, adapter.events(Height(3), Height(4))))


def test_bounds_are_checked_before_any_request() -> None:
    """Oversized ranges and non-cosmos actions are InvalidInput, with no RPC call made."""
    recording = CometBftRecording(vectors_dir(), VALSET_HALVES)
    adapter = adapter_on(recording, recording.chain_id, max_event_range=2)
    with pytest.raises(InvalidInput):
        asyncio.run(adapter.events(Height(1), Height(3)))
    with pytest.raises(InvalidInput):
        asyncio.run(adapter.submit(ChainAction("bridge.sendNative", {}, "k")))
    asyncio.run(adapter.aclose())
    assert recording.calls == []


def test_registered_with_its_settings_model_and_seam_version() -> None:
    """The registry loads the family; the SDK finds its settings model and accepts its version."""
    cls = discover().load("cometbft")
    assert cls is CometBftAdapter
    assert check_seam_version(cls) is None
    assert settings_model_of(cls) is CometBftSettings
    with pytest.raises(ConfigError, match="trust_level") as caught:
        validate_settings(
            CometBftSettings,
            {"chain_id": "c", "rpc_url": "http://x", "trust_level": "1/4"},
            family="cometbft",
        )
    assert "1/4" not in str(caught.value)


# --- shapes no vector holds (hand-written, unsigned) ----------------------------------------

TX = b"a signed cosmos tx (opaque to the adapter)"


class FakeCometNode(httpx.MockTransport):
    """Answers block_results / block / tx for height 7 in CometBFT v0.38's shapes."""

    def __init__(self) -> None:
        super().__init__(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method = body["method"]
        send_packet = {
            "type": "send_packet",
            "attributes": [
                {"key": "packet_src_port", "value": "transfer", "index": True},
                {"key": "packet_src_channel", "value": "channel-0", "index": True},
                {"key": "packet_sequence", "value": "5", "index": True},
            ],
        }
        results: dict[str, Any] = {
            "block_results": {
                "height": "7",
                "txs_results": [
                    {"code": 0, "events": [{"type": "message", "attributes": []}, send_packet]},
                    {"code": 5, "events": [send_packet]},  # a failed tx emits nothing real
                ],
            },
            "block": {"block": {"data": {"txs": [base64.b64encode(TX).decode(), "AA=="]}}},
            "tx": {"height": "7", "tx_result": {"code": 0}},
        }
        return httpx.Response(
            200, json={"jsonrpc": "2.0", "id": body["id"], "result": results[method]}
        )


def test_send_packet_events_and_receipts_are_read_from_their_shapes() -> None:
    """send_packet of a successful tx -> SEND_PACKET with sha256(tx) and its position."""
    adapter = adapter_on(FakeCometNode(), "fake-chain")
    events = asyncio.run(adapter.events(Height(7), Height(7)))
    receipt = asyncio.run(adapter.receipt(hashlib.sha256(TX).digest()))
    asyncio.run(adapter.aclose())
    assert [(e.kind, e.position, e.tx_hash) for e in events] == [
        (EventKind.SEND_PACKET, (0, 1), hashlib.sha256(TX).digest())
    ]
    assert events[0].attributes["packet_sequence"] == "5"
    assert (receipt.height, receipt.success) == (7, True)


# --- event_from_proof: the send_packet's fields against the proven ICS-04 commitment ----------

PACKET_ATTRS = {
    "packet_src_port": "transfer",
    "packet_src_channel": "channel-0",
    "packet_sequence": "5",
    "packet_timeout_height": "1-1000",
    "packet_timeout_timestamp": "1700000000000000000",
    "packet_data_hex": b'{"amount":"10","denom":"uatom"}'.hex(),
}
COMMITMENT_KEY = b"commitments/ports/transfer/channels/channel-0/sequences/5"


def _ics04(timestamp: int, revision: int, height: int, data: bytes) -> bytes:
    """ICS-04 (ibc-go ``CommitPacket``): sha256(timestamp ‖ rev number ‖ rev height ‖
    sha256(data)), each integer 8 bytes big-endian."""
    head = timestamp.to_bytes(8, "big") + revision.to_bytes(8, "big") + height.to_bytes(8, "big")
    return hashlib.sha256(head + hashlib.sha256(data).digest()).digest()


def _event(**changes: str) -> Any:
    from core.types import ChainEvent

    attrs = {**PACKET_ATTRS, **changes}
    return ChainEvent("fake-chain", Height(7), EventKind.SEND_PACKET, b"\x01" * 32, (0, 1), attrs)


def _proof(value: bytes, key: bytes = COMMITMENT_KEY) -> Any:
    from core.types import InclusionProof

    return InclusionProof("fake-chain", Height(8), "ics23", key, value, ())


GOOD = _ics04(1_700_000_000_000_000_000, 1, 1000, b'{"amount":"10","denom":"uatom"}')


def test_event_from_proof_returns_the_event_its_commitment_proves() -> None:
    adapter = adapter_on(FakeCometNode(), "fake-chain")
    event = _event()
    assert adapter.event_from_proof(event, _proof(GOOD), b"\x00" * 32) is event
    asyncio.run(adapter.aclose())


@pytest.mark.parametrize(
    ("event", "proof", "check"),
    [
        pytest.param(_event(packet_data_hex=b"{}".hex()), _proof(GOOD), "value", id="data"),
        pytest.param(_event(packet_timeout_height="1-1001"), _proof(GOOD), "value", id="timeout"),
        pytest.param(
            _event(packet_timeout_timestamp="1"), _proof(GOOD), "value", id="timeout timestamp"
        ),
        pytest.param(_event(packet_sequence="6"), _proof(GOOD), "position", id="sequence"),
        pytest.param(_event(), _proof(GOOD, COMMITMENT_KEY + b"0"), "position", id="proof key"),
        pytest.param(_event(), _proof(b"\x00" * 32), "value", id="proven value"),
        pytest.param(_event(packet_data_hex="zz"), _proof(GOOD), "value", id="undecodable data"),
    ],
)
def test_event_from_proof_refuses_an_event_its_commitment_does_not_prove(
    event: Any, proof: Any, check: str
) -> None:
    adapter = adapter_on(FakeCometNode(), "fake-chain")
    with pytest.raises(InvalidInput) as refused:
        adapter.event_from_proof(event, proof, b"\x00" * 32)
    asyncio.run(adapter.aclose())
    assert refused.value.details["check"] == check

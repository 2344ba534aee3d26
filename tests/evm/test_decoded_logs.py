"""``EvmAdapter`` decodes a log once (issue #15): kept by its receipt bytes, the decoding
serves the listing and ``event_from_proof``; events and refusals are those of an adapter
that never saw the log (a cold one), and a log at another place is that place's event.

Offline: the logs are ``Bridge`` ``SendPacket`` logs encoded here with eth-abi, the
proofs carry only what ``event_from_proof`` reads (key and value; the light client checks
the nodes before it, ``tests/evm/test_adapter_proofs.py`` does both on anvil)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi import encode as abi_encode
from eth_utils import event_abi_to_log_topic, keccak

from adapters.evm import adapter as evm_adapter
from adapters.evm.adapter import EvmAdapter
from adapters.evm.artifacts import load_artifact
from adapters.evm.settings import EvmChainSettings
from core.errors import ChainUnavailable, InvalidInput, PjgwError
from core.types import ChainEvent, EventKind, InclusionProof
from proofs.evm.client import PROOF_KIND, encode_log, encode_log_key
from proofs.mpt import Log

BRIDGE = "0x" + "b1" * 20
HTLC = "0x" + "c2" * 20
BLOCK = "0x" + "aa" * 32
TX = "0x" + "11" * 32


def _adapter() -> EvmAdapter:
    return EvmAdapter(
        EvmChainSettings(
            chain="evm-decoded",
            rpc_url="http://node.test",
            evm_chain_id=31337,
            bridge_address=BRIDGE,
            htlc_address=HTLC,
        )
    )


def _event_abi(name: str) -> dict[str, Any]:
    abi = load_artifact("Bridge").abi
    return next(i for i in abi if i["type"] == "event" and i["name"] == name)


def send_packet_log(sequence: int, *, at: tuple[str, int, int] = (BLOCK, 0, 0)) -> dict[str, Any]:
    """A ``SendPacket`` log of packet ``sequence`` in block ``at[0]``, transaction ``at[1]``,
    block log index ``at[2]``, as ``eth_getLogs`` answers it."""
    block_hash, tx_index, log_index = at
    packet = (sequence, "evm-decoded", "pujiang-main", b"\x01" * 20, b"\x02" * 20, "wei",
              10**18 + sequence, b"p" * (sequence % 70), 0, 1_800_000_000)  # fmt: skip
    abi = _event_abi("SendPacket")
    tuple_type = "(uint64,string,string,bytes,bytes,string,uint256,bytes,uint64,uint64)"
    topics = [
        event_abi_to_log_topic(abi),
        keccak(b"pujiang-main"),
        sequence.to_bytes(32, "big"),
        bytes(12) + b"\x03" * 20,
    ]
    return {
        "address": BRIDGE,
        "topics": ["0x" + t.hex() for t in topics],
        "data": "0x" + abi_encode([tuple_type], [packet]).hex(),
        "blockHash": block_hash,
        "blockNumber": "0x2a",
        "transactionHash": TX,
        "transactionIndex": hex(tx_index),
        "logIndex": hex(log_index),
    }


def _proof_of(event: ChainEvent, value: bytes, log_in_receipt: int = 0) -> InclusionProof:
    key = encode_log_key(event.position[0], log_in_receipt)
    return InclusionProof(event.chain_id, event.height, PROOF_KIND, key, value, ())


def _asked(adapter: EvmAdapter) -> EvmAdapter:
    """``adapter`` once ``event_from_proof`` was asked (a notary's): it keeps decodings."""
    event = adapter.decode_event(send_packet_log(1))
    assert event is not None
    adapter.event_from_proof(event, _proof_of(event, event.raw), b"\xaa" * 32)
    return adapter


def test_nothing_is_kept_until_a_proven_event_is_decoded() -> None:
    """The hub's and the relayer's adapters list but never decode proven events again."""
    adapter = _adapter()
    for sequence in range(1, 4):
        assert adapter.decode_event(send_packet_log(sequence)) is not None
    assert not adapter._decoded
    _asked(adapter)
    event = adapter.decode_event(send_packet_log(9))
    assert event is not None
    assert event.raw in adapter._decoded


def test_a_log_is_decoded_once_and_serves_the_proof_check() -> None:
    adapter = _asked(_adapter())
    event = adapter.decode_event(send_packet_log(7))
    assert event is not None
    assert event.kind is EventKind.SEND_PACKET
    assert event.raw in adapter._decoded
    calls = []
    decode_log = adapter._artifact_at(BRIDGE).decode_log

    def counted(*args: Any) -> Any:
        calls.append(args)
        return decode_log(*args)

    object.__setattr__(adapter._artifacts["Bridge"], "decode_log", counted)
    fresh = adapter.event_from_proof(event, _proof_of(event, event.raw), bytes.fromhex("aa" * 32))
    assert fresh == event
    assert calls == []  # answered from the kept decoding
    cold = _adapter().event_from_proof(event, _proof_of(event, event.raw), bytes.fromhex("aa" * 32))
    assert cold == fresh


def test_the_same_log_bytes_elsewhere_are_that_place_s_event() -> None:
    """Identical address, topics and data in another block / transaction / index: the
    kept decoding is the arguments only; the place comes from the log each time."""
    adapter = _asked(_adapter())
    first = adapter.decode_event(send_packet_log(7))
    elsewhere = send_packet_log(7, at=("0x" + "bb" * 32, 3, 9))
    second = adapter.decode_event(elsewhere)
    assert second == _adapter().decode_event(elsewhere)
    assert first is not None
    assert second is not None
    assert second.position == (3, 9)
    assert second.attributes["block_hash"] == b"\xbb" * 32
    assert second.raw == first.raw
    assert second != first
    assert list(adapter._decoded).count(second.raw) == 1
    second.attributes["packet"] = None  # a caller's change stays in its own event
    assert adapter.decode_event(elsewhere) == _adapter().decode_event(elsewhere)


def test_the_listing_decodes_with_eth_abi_as_before() -> None:
    event = _adapter().decode_event(send_packet_log(9))
    assert event is not None
    assert event.raw == encode_log(
        Log(
            bytes.fromhex(BRIDGE[2:]),
            tuple(bytes.fromhex(t[2:]) for t in send_packet_log(9)["topics"]),
            bytes.fromhex(send_packet_log(9)["data"][2:]),
        )
    )
    packet = event.attributes["packet"]
    assert (packet.sequence, packet.amount, packet.payload) == (9, 10**18 + 9, b"p" * 9)  # type: ignore[attr-defined]
    assert event.attributes["contract"] == BRIDGE


def _outcome(call: Any) -> object:
    try:
        return call()
    except PjgwError as err:
        return (type(err), err.message, err.details)


def _foreign_log() -> bytes:
    """A bridge log of an event the hub does not read (no such topic: decodes to None)."""
    return encode_log(Log(bytes.fromhex(BRIDGE[2:]), (b"\x05" * 32,), b""))


_OTHER_LOG = (InvalidInput, "the proof is for another log than the event")
REFUSALS = {
    "the proven log is another transaction's": _OTHER_LOG,
    "the receipt index is above the block's": _OTHER_LOG,
    "the proven bytes are not the event's": _OTHER_LOG,
    "the proven bytes do not decode": (InvalidInput, "the proven log does not decode"),
    "the proven log is not a bridge event": (InvalidInput, "the proven log is not a bridge event"),
    "the proven log is another contract's": (
        InvalidInput,
        "0x0909090909090909090909090909090909090909 is neither the bridge nor the HTLC contract",
    ),
    "the proven log, kept, for an event with a short transaction hash": (
        ChainUnavailable,
        "transactionHash: the node answered 31 bytes, not 32",
    ),
    "the proven log, kept, in a header of another size": (
        ChainUnavailable,
        "blockHash: the node answered 31 bytes, not 32",
    ),
}


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("the proven log is another transaction's", lambda e, p: (e, _proof_of(
            ChainEvent(e.chain_id, e.height, e.kind, e.tx_hash, (e.position[0] + 1, 0)),
            p.value))),
        ("the receipt index is above the block's", lambda e, p: (e, _proof_of(e, p.value, 5))),
        ("the proven bytes are not the event's", lambda e, p: (e, _proof_of(
            e, send_packet_log(8)["data"].encode()))),
        ("the proven bytes do not decode", lambda e, p: (
            ChainEvent(e.chain_id, e.height, e.kind, e.tx_hash, e.position, e.attributes),
            _proof_of(e, b"\xff\x01"))),
        ("the proven log is not a bridge event", lambda e, p: (
            ChainEvent(e.chain_id, e.height, e.kind, e.tx_hash, e.position, e.attributes),
            _proof_of(e, _foreign_log()))),
        ("the proven log is another contract's", lambda e, p: (
            ChainEvent(e.chain_id, e.height, e.kind, e.tx_hash, e.position, e.attributes),
            _proof_of(e, encode_log(Log(b"\x09" * 20, (), b""))))),
        ("the proven log, kept, for an event with a short transaction hash", lambda e, p: (
            ChainEvent(e.chain_id, e.height, e.kind, e.tx_hash[:31], e.position, e.attributes,
                       e.raw), p)),
        ("the proven log, kept, in a header of another size", lambda e, p: (e, p)),
    ],
)  # fmt: skip
def test_refusals_are_those_of_a_cold_adapter(name: str, change: Any) -> None:
    """One broken thing per row; a warm adapter (the log decoded and kept) and a cold one
    answer alike, refusal class, message and details included."""
    warm = _asked(_adapter())
    event = warm.decode_event(send_packet_log(7, at=(BLOCK, 2, 4)))
    assert event is not None
    broken_event, proof = change(event, _proof_of(event, event.raw, 1))
    header_hash = b"\xaa" * (31 if "another size" in name else 32)
    got = _outcome(lambda: warm.event_from_proof(broken_event, proof, header_hash))
    assert isinstance(got, tuple), name
    assert got == _outcome(lambda: _adapter().event_from_proof(broken_event, proof, header_hash))
    assert got[:2] == REFUSALS[name]


def test_a_kept_log_with_a_malformed_place_is_refused_as_before() -> None:
    adapter = _asked(_adapter())
    adapter.decode_event(send_packet_log(7))
    broken = send_packet_log(7) | {"blockNumber": "42"}
    with pytest.raises(ChainUnavailable, match="blockNumber"):
        adapter.decode_event(broken)


def test_the_kept_decodings_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evm_adapter, "_DECODED_LOGS", 3)
    adapter = _asked(_adapter())
    events = [adapter.decode_event(send_packet_log(i)) for i in range(1, 6)]
    assert [e.raw for e in events[2:] if e is not None] == list(adapter._decoded)
    adapter._forget_decoded()
    assert not adapter._decoded

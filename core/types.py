"""Chain-neutral data that crosses the seams.

Family-specific content (a Pujiang commit, an EVM receipt proof, a CometBFT
signed header) travels as opaque ``bytes`` or a family-owned object inside
these envelopes: the relayer moves them, only the family's adapter and light
client look inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from core.ids import ChainId, Height
from core.records import TransferKind


class EventKind(StrEnum):
    """The on-chain events the hub reacts to."""

    SEND_PACKET = "send_packet"
    RECEIVE_PACKET = "receive_packet"
    ACKNOWLEDGE_PACKET = "acknowledge_packet"
    TIMEOUT_PACKET = "timeout_packet"
    PACKET_FAILED = "packet_failed"  # received in a batch, but its receiver/token refused it
    HTLC_LOCKED = "htlc_locked"
    HTLC_CLAIMED = "htlc_claimed"
    HTLC_REFUNDED = "htlc_refunded"


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """An event as read from a chain (untrusted until its inclusion is proven).

    ``position`` locates the event inside its block in the family's terms
    (transaction index and log index on EVM, leaf index in the events root on
    Pujiang), so that ``ChainAdapter.prove`` can build its proof.
    """

    chain_id: ChainId
    height: Height
    kind: EventKind
    tx_hash: bytes
    position: tuple[int, ...]
    attributes: dict[str, object] = field(default_factory=dict)
    raw: bytes = b""


@dataclass(frozen=True, slots=True)
class HeaderUpdate:
    """A header served by a node, with what its light client needs to verify it.

    SECURITY: untrusted until a light client accepted it (hence not "trusted
    header"): every field, ``hash`` and ``time`` included, is the node's word.
    ``evidence`` is the family's proof material: a commit for BFT families,
    the chain of ancestors from a trusted height for hash-chained ones.
    """

    chain_id: ChainId
    height: Height
    hash: bytes
    time: int  # unix seconds, as the header states it (untrusted until verified)
    encoded: bytes  # the family's canonical header encoding
    evidence: bytes = b""  # commit / seals / sync-committee update, family encoded


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Ties one event to the root named by a header at ``height``."""

    chain_id: ChainId
    height: Height
    kind: str  # e.g. "rfc6962", "mpt-receipt", "ics23"
    key: bytes
    value: bytes
    nodes: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ChainAction:
    """Something the hub asks a chain to do (deliver a packet, claim an HTLC, …)."""

    kind: str
    payload: dict[str, object]
    idempotency_key: str  # the destination must reject a second execution of the same key


@dataclass(frozen=True, slots=True)
class Packet:
    """A cross-chain packet, chain-neutral: what a ``send_packet`` event carries.

    ``(source_chain, dest_chain, sequence)`` is its identity. ``sender`` and
    ``receiver`` are raw bytes in their own chain's address format. An asset
    packet has ``denom``/``amount``; a message packet has ``payload`` (and may
    carry an amount too). Timeouts refer to the DESTINATION chain; 0 = none;
    ``timeout_time_ms`` is unix milliseconds (an EVM bridge stores seconds: its
    endpoint converts, and a packet whose value does not convert exactly is
    refused rather than rounded).
    """

    source_chain: ChainId
    dest_chain: ChainId
    sequence: int
    sender: bytes
    receiver: bytes
    denom: str
    amount: int
    payload: bytes = b""
    timeout_height: int = 0
    timeout_time_ms: int = 0


def packet_to_data(packet: Packet) -> dict[str, object]:
    """The packet as plain data (str, int, bytes): what the store keeps of it."""
    return {
        "source_chain": str(packet.source_chain),
        "dest_chain": str(packet.dest_chain),
        "sequence": packet.sequence,
        "sender": bytes(packet.sender),
        "receiver": bytes(packet.receiver),
        "denom": packet.denom,
        "amount": packet.amount,
        "payload": bytes(packet.payload),
        "timeout_height": packet.timeout_height,
        "timeout_time_ms": packet.timeout_time_ms,
    }


def packet_from_data(data: Mapping[str, object]) -> Packet:
    """The inverse of :func:`packet_to_data`."""
    return Packet(
        source_chain=ChainId(str(data["source_chain"])),
        dest_chain=ChainId(str(data["dest_chain"])),
        sequence=int(data["sequence"]),  # type: ignore[call-overload]
        sender=bytes(data["sender"]),  # type: ignore[arg-type]
        receiver=bytes(data["receiver"]),  # type: ignore[arg-type]
        denom=str(data["denom"]),
        amount=int(data["amount"]),  # type: ignore[call-overload]
        payload=bytes(data["payload"]),  # type: ignore[arg-type]
        timeout_height=int(data["timeout_height"]),  # type: ignore[call-overload]
        timeout_time_ms=int(data["timeout_time_ms"]),  # type: ignore[call-overload]
    )


def plain_attributes(attributes: Mapping[str, object]) -> dict[str, object]:
    """The attributes whose values are plain data (str, int, bool, bytes, None, lists and
    tuples of those): what a store can keep of an event. A family's decoded objects are
    left out; what they carry is in the stored packet."""

    def plain(value: object) -> bool:
        if value is None or isinstance(value, str | int | bool | bytes):
            return True
        return isinstance(value, list | tuple) and all(plain(v) for v in value)

    return {k: v for k, v in attributes.items() if plain(v)}


@dataclass(frozen=True, slots=True)
class TxReceipt:
    """The outcome of a submitted action, as the chain reports it."""

    chain_id: ChainId
    tx_hash: bytes
    height: Height | None  # None while pending
    success: bool | None  # None while pending
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SendIntent:
    """A transfer's first step, chain-neutral: the send on the source chain a client asked for.

    What the hub checks a client-signed source transaction against, and what it
    signs for a managed account. ``sender`` and ``receiver`` are raw address
    bytes in their own chain's format (``AddressFormat.address_bytes``). An
    asset send has ``denom``/``amount`` and no payload; a message send has
    ``payload`` and no amount. Timeouts refer to the DESTINATION chain; 0 = none;
    ``timeout_time_ms`` is unix milliseconds.
    """

    kind: TransferKind
    source_chain: ChainId
    dest_chain: ChainId
    sender: bytes
    receiver: bytes
    denom: str
    amount: int
    payload: bytes = b""
    timeout_height: int = 0
    timeout_time_ms: int = 0


@dataclass(frozen=True, slots=True)
class SourceSend:
    """A source transaction ready to journal: the family's action and its transaction hash.

    The action's idempotency key names the transaction, so sending it again is
    harmless (the chain refuses a second execution of one signed transaction).
    """

    action: ChainAction
    tx_hash: bytes

"""The notary certificate of ``contracts/Bridge.sol``, on the Python side.

The bridge accepts a packet, a non-delivery (refund), a delivery
acknowledgement or a committee rotation only with a certificate: 65-byte
``r || s || v`` ECDSA signatures over an EIP-712 digest, ``s`` in the lower
half of the curve order, ``v`` in {27, 28}, signers distinct members of the
current committee listed in strictly increasing address order, at least
``threshold`` of them. This module computes the same digests as the contract
(through ``eth_account.messages.encode_typed_data``), signs them with
eth-account keys and assembles the certificate in the order the contract
checks. The layout is specified in ``docs/evm-bridge.md``.

The digests are bound to one bridge on one chain by the EIP-712 domain (name,
version, chainId, verifyingContract), and the four messages by their type
names, so no signature can be replayed on another chain, another contract or
as another kind of message.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_hash import Keccak256
from eth_hash.backends.pycryptodome import backend as _pycryptodome
from eth_utils import to_checksum_address

from core.errors import InvalidInput

DOMAIN_NAME = "PujiangBridge"
DOMAIN_VERSION = "1"
NATIVE_DENOM = "native"

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
HALF_N = SECP256K1_N // 2

keccak = Keccak256(_pycryptodome)  # pinned like proofs.hashing: Ethereum's Keccak, not SHA3

_DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
PACKET_TYPE = [
    {"name": "sequence", "type": "uint64"},
    {"name": "sourceChain", "type": "string"},
    {"name": "destChain", "type": "string"},
    {"name": "sender", "type": "bytes"},
    {"name": "receiver", "type": "bytes"},
    {"name": "denom", "type": "string"},
    {"name": "amount", "type": "uint256"},
    {"name": "payload", "type": "bytes"},
    {"name": "timeoutHeight", "type": "uint64"},
    {"name": "timeoutTimestamp", "type": "uint64"},
]
BATCH_TYPE = [
    {"name": "sourceChain", "type": "string"},
    {"name": "destChain", "type": "string"},
    {"name": "epoch", "type": "uint64"},
    {"name": "kind", "type": "uint8"},
    {"name": "size", "type": "uint32"},
    {"name": "root", "type": "bytes32"},
]
ROTATION_TYPE = [
    {"name": "epoch", "type": "uint64"},
    {"name": "members", "type": "address[]"},
    {"name": "threshold", "type": "uint256"},
]


@dataclass(frozen=True, slots=True)
class BridgeDomain:
    """The EIP-712 domain of one deployed bridge: the contract that verifies."""

    chain_id: int
    verifying_contract: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


@dataclass(frozen=True, slots=True)
class Packet:
    """``Bridge.Packet``, field for field (sender/receiver in their chain's raw bytes)."""

    sequence: int
    source_chain: str
    dest_chain: str
    sender: bytes
    receiver: bytes
    denom: str
    amount: int
    payload: bytes
    timeout_height: int
    timeout_timestamp: int

    def as_abi(self) -> tuple[Any, ...]:
        """The tuple eth-abi encodes for a ``Packet`` argument."""
        return (
            self.sequence,
            self.source_chain,
            self.dest_chain,
            self.sender,
            self.receiver,
            self.denom,
            self.amount,
            self.payload,
            self.timeout_height,
            self.timeout_timestamp,
        )

    @classmethod
    def from_abi(cls, values: Sequence[Any]) -> Packet:
        """From the decoded tuple of a ``SendPacket``/``RecvPacket`` event."""
        return cls(*values)

    def as_message(self) -> dict[str, Any]:
        """The EIP-712 message object (field names as in the Solidity struct)."""
        return {item["name"]: value for item, value in zip(PACKET_TYPE, self.as_abi(), strict=True)}


@dataclass(frozen=True, slots=True)
class NotarySignature:
    """One notary's signature and the address it recovers to."""

    signer: str
    signature: bytes  # r || s || v, s low, v in {27, 28}


def _digest(typed: SignableMessage) -> bytes:
    return keccak(b"\x19" + typed.version + typed.header + typed.body)


def _typed(domain: BridgeDomain, primary: str, types: dict[str, Any], message: Any) -> bytes:
    full = {
        "types": {"EIP712Domain": _DOMAIN_TYPE, **types},
        "primaryType": primary,
        "domain": domain.as_dict(),
        "message": message,
    }
    return _digest(encode_typed_data(full_message=full))


def compute_packet_hash(packet: Packet) -> bytes:
    """EIP-712 ``hashStruct(packet)``: the packet's commitment on its source chain.

    The type hash is computed once and the hashes of a route's chain ids and denominations
    are remembered (``_text_hash``): every packet of a batch carries the same ones, and
    this runs for every member of every batch the relayer and the notaries build."""
    payload = (
        _PACKET_TYPEHASH,
        packet.sequence.to_bytes(32, "big"),
        _text_hash(packet.source_chain),
        _text_hash(packet.dest_chain),
        keccak(packet.sender),
        keccak(packet.receiver),
        _text_hash(packet.denom),
        packet.amount.to_bytes(32, "big"),
        keccak(packet.payload),
        packet.timeout_height.to_bytes(32, "big"),
        packet.timeout_timestamp.to_bytes(32, "big"),
    )
    return keccak(b"".join(payload))


_PACKET_TYPEHASH = keccak(
    ("Packet(" + ",".join(f"{t['type']} {t['name']}" for t in PACKET_TYPE) + ")").encode()
)


@functools.lru_cache(maxsize=1024)
def _text_hash(text: str) -> bytes:
    """``keccak(text)`` of a chain id or denomination (few distinct values, many packets)."""
    return keccak(text.encode())


def compute_packet_digest(domain: BridgeDomain, packet: Packet) -> bytes:
    """What the committee signs so that the destination bridge accepts ``packet``.

    EIP-712 ``keccak(0x1901 ‖ domainSeparator ‖ hashStruct(packet))`` with the domain
    separator computed once per bridge and ``hashStruct`` by ``compute_packet_hash``: the
    generic ``encode_typed_data`` walk cost more than everything else a batch member's
    acknowledgement needs (issue #15's profile). ``_typed`` stays the reference: the
    tests hold the two equal on generated packets."""
    return keccak(b"\x19\x01" + _domain_separator(domain) + compute_packet_hash(packet))


@functools.lru_cache(maxsize=64)
def _domain_separator(domain: BridgeDomain) -> bytes:
    """``hashStruct(EIP712Domain)`` of one bridge, by eth-account's own encoder."""
    typed = encode_typed_data(
        full_message={
            "types": {"EIP712Domain": _DOMAIN_TYPE, "Packet": PACKET_TYPE},
            "primaryType": "Packet",
            "domain": domain.as_dict(),
            "message": Packet(0, "", "", b"", b"", "", 0, b"", 0, 0).as_message(),
        }
    )
    return bytes(typed.header)


def reference_packet_digest(domain: BridgeDomain, packet: Packet) -> bytes:
    """``compute_packet_digest`` by eth-account's generic EIP-712 encoder (for the tests)."""
    return _typed(domain, "Packet", {"Packet": PACKET_TYPE}, packet.as_message())


def compute_delivered_digest(domain: BridgeDomain, packet: Packet) -> bytes:
    """``PacketDelivered(packet)`` for the source bridge (clears the commitment)."""
    types = {"PacketDelivered": [{"name": "packet", "type": "Packet"}], "Packet": PACKET_TYPE}
    return _typed(domain, "PacketDelivered", types, {"packet": packet.as_message()})


def compute_not_delivered_digest(domain: BridgeDomain, packet: Packet) -> bytes:
    """``PacketNotDelivered(packet)`` for the source bridge (refunds the sender).

    SECURITY: a notary signs it only after its light client of the destination
    showed a finalized block past the packet's timeout with the packet not received.
    """
    types = {"PacketNotDelivered": [{"name": "packet", "type": "Packet"}], "Packet": PACKET_TYPE}
    return _typed(domain, "PacketNotDelivered", types, {"packet": packet.as_message()})


def compute_batch_digest(
    domain: BridgeDomain,
    source_chain: str,
    dest_chain: str,
    epoch: int,
    kind: int,
    size: int,
    root: bytes,
) -> bytes:
    """``PacketBatch(sourceChain, destChain, epoch, kind, size, root)``: the committee of
    ``epoch`` certifies the RFC 6962 keccak-256 root over ``size`` packet hashes (leaf
    ``i`` = ``compute_packet_hash`` of packet ``i``); ``kind`` is ``core.batches.BatchKind``."""
    message = {
        "sourceChain": source_chain,
        "destChain": dest_chain,
        "epoch": epoch,
        "kind": kind,
        "size": size,
        "root": root,
    }
    return _typed(domain, "PacketBatch", {"PacketBatch": BATCH_TYPE}, message)


def compute_rotation_digest(
    domain: BridgeDomain, epoch: int, members: Sequence[str], threshold: int
) -> bytes:
    """``CommitteeRotation(epoch, members, threshold)``, signed by the outgoing committee."""
    message = {
        "epoch": epoch,
        "members": [to_checksum_address(m) for m in members],
        "threshold": threshold,
    }
    return _typed(domain, "CommitteeRotation", {"CommitteeRotation": ROTATION_TYPE}, message)


def sign_digest(private_key: bytes | str, digest: bytes) -> NotarySignature:
    """Sign a 32-byte digest; the result is normalised to low ``s`` and ``v`` in {27, 28}."""
    if len(digest) != 32:
        raise InvalidInput("a digest is 32 bytes", field="digest")
    signed = Account.unsafe_sign_hash(digest, private_key)
    r, s, v = signed.r, signed.s, signed.v
    if v < 27:
        v += 27
    if s > HALF_N:  # the contract accepts only the low-s twin
        s, v = SECP256K1_N - s, 55 - v
    signer = Account.from_key(private_key).address
    return NotarySignature(signer, r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v]))


def assemble_certificate(signatures: Iterable[NotarySignature]) -> list[bytes]:
    """The ``bytes[]`` argument: signatures ordered by signer address, each signer once."""
    ordered = sorted(signatures, key=lambda sig: int(sig.signer, 16))
    for before, after in itertools.pairwise(ordered):
        if int(before.signer, 16) == int(after.signer, 16):
            raise InvalidInput(f"signer {after.signer} signed twice", field="signatures")
    return [sig.signature for sig in ordered]


def certify(private_keys: Iterable[bytes | str], digest: bytes) -> list[bytes]:
    """Sign ``digest`` with each key and assemble the certificate (a notary quorum in one call)."""
    return assemble_certificate(sign_digest(key, digest) for key in private_keys)

"""FISCO BCOS 2.x block headers: hash, PBFT sealer signatures, finality.

Pure: no I/O, no clock. The header is the JSON object of the node's
``getBlockByNumber`` / ``getBlockHeaderByHash`` answer (hex strings).

:func:`verify_header`, in order, cheapest first:

1. ``fisco-malformed``: every field decodes (32-byte hashes, 256-byte bloom,
   quantities, 64-byte sealer keys, 65-byte ``r||s||v`` signatures, ``v`` 0 or 1);
2. ``fisco-header-hash``: ``keccak256(rlp([parentHash, stateRoot,
   transactionsRoot, receiptsRoot, dbHash, logsBloom, number, gasLimit,
   gasUsed, timestamp, extraData, sealer, sealerList]))`` equals ``hash``;
3. ``fisco-sealer-list`` (when a trusted list is given): the header's
   ``sealerList`` is it, in order (indexes point into it);
4. ``fisco-sealer-index``: ``sealer`` and every signature index are below n;
5. ``fisco-duplicate-sealer``: an index at most once;
6. ``fisco-insufficient-sealers``: at least ``n - floor((n - 1) / 3)`` signatures
   (PBFT's quorum), counted before any key recovery;
7. ``fisco-sealer-signature``: each signature recovers (secp256k1, libsecp256k1
   through coincurve) to ``sealerList[index]`` over the block hash.

The ``gm`` (SM2/SM3) profile of FISCO has no real data here and is not claimed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import coincurve
import rlp

from proofs.fisco.errors import (
    BadSealerSignature,
    DuplicateSealer,
    HeaderHashMismatch,
    InsufficientSealers,
    MalformedHeader,
    SealerIndexOutOfRange,
    SealerListMismatch,
)
from proofs.hashing import keccak256


@dataclass(frozen=True, slots=True)
class Header:
    """A decoded 2.x header: the 13 hashed fields, its claimed hash and the signatures."""

    parent_hash: bytes
    state_root: bytes
    transactions_root: bytes
    receipts_root: bytes
    db_hash: bytes
    logs_bloom: bytes
    number: int
    gas_limit: int
    gas_used: int
    timestamp: int
    extra_data: tuple[bytes, ...]
    sealer: int
    sealer_list: tuple[bytes, ...]
    hash: bytes
    signatures: tuple[tuple[int, bytes], ...]

    def rlp_fields(self) -> list[Any]:
        return [
            self.parent_hash,
            self.state_root,
            self.transactions_root,
            self.receipts_root,
            self.db_hash,
            self.logs_bloom,
            self.number,
            self.gas_limit,
            self.gas_used,
            self.timestamp,
            list(self.extra_data),
            self.sealer,
            list(self.sealer_list),
        ]


def compute_quorum(count: int) -> int:
    """PBFT's quorum of ``count`` sealers: ``n - floor((n - 1) / 3)``."""
    return count - (count - 1) // 3


def _hex(value: Any, field: str, size: int | None = None) -> bytes:
    if not isinstance(value, str):
        raise MalformedHeader(f"{field} is not a hex string", check=field)
    text = value[2:] if value[:2] in ("0x", "0X") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError as err:
        raise MalformedHeader(f"{field} is not hex", check=field) from err
    if size is not None and len(raw) != size:
        raise MalformedHeader(f"{field} is {len(raw)} bytes, not {size}", check=field)
    return raw


def _quantity(value: Any, field: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError as err:
            raise MalformedHeader(f"{field} is not a quantity", check=field) from err
    raise MalformedHeader(f"{field} is not a quantity", check=field)


def decode_header(doc: Mapping[str, Any]) -> Header:
    """A :class:`Header` from the JSON-RPC object (``MalformedHeader`` when malformed)."""
    try:
        signatures = tuple(
            (_quantity(s["index"], "signatureList.index"), _hex(s["signature"], "signature", 65))
            for s in doc.get("signatureList", [])
        )
        header = Header(
            parent_hash=_hex(doc["parentHash"], "parentHash", 32),
            state_root=_hex(doc["stateRoot"], "stateRoot", 32),
            transactions_root=_hex(doc["transactionsRoot"], "transactionsRoot", 32),
            receipts_root=_hex(doc["receiptsRoot"], "receiptsRoot", 32),
            db_hash=_hex(doc["dbHash"], "dbHash", 32),
            logs_bloom=_hex(doc["logsBloom"], "logsBloom", 256),
            number=_quantity(doc["number"], "number"),
            gas_limit=_quantity(doc["gasLimit"], "gasLimit"),
            gas_used=_quantity(doc["gasUsed"], "gasUsed"),
            timestamp=_quantity(doc["timestamp"], "timestamp"),
            extra_data=tuple(_hex(x, "extraData") for x in doc["extraData"]),
            sealer=_quantity(doc["sealer"], "sealer"),
            sealer_list=tuple(_hex(k, "sealerList", 64) for k in doc["sealerList"]),
            hash=_hex(doc["hash"], "hash", 32),
            signatures=signatures,
        )
    except (KeyError, TypeError) as err:
        raise MalformedHeader(f"the header lacks a field: {err}", check="fields") from err
    for _, signature in header.signatures:
        if signature[64] not in (0, 1):
            raise MalformedHeader("a signature's v is not 0 or 1", check="signature")
    return header


def compute_header_hash(header: Header) -> bytes:
    """keccak-256 of the RLP list of the 13 fields, in FISCO 2.x order."""
    return keccak256(rlp.encode(header.rlp_fields()))


def recover_sealer_key(block_hash: bytes, signature: bytes) -> bytes | None:
    """The 64-byte public key that made ``signature`` over ``block_hash`` (None: no key)."""
    try:
        key = coincurve.PublicKey.from_signature_and_message(signature, block_hash, hasher=None)
    except (ValueError, TypeError):
        return None
    return key.format(compressed=False)[1:]


def verify_header(header: Header, trusted_sealers: Sequence[bytes] | None = None) -> list[int]:
    """Verify hash, sealer signatures and finality (module table); the indexes that signed."""
    if compute_header_hash(header) != header.hash:
        raise HeaderHashMismatch("the header does not hash to its hash")
    sealers = header.sealer_list
    if trusted_sealers is not None and tuple(trusted_sealers) != sealers:
        raise SealerListMismatch("the header's sealer list is not the trusted one")
    n = len(sealers)
    if header.sealer >= n:
        raise SealerIndexOutOfRange(
            f"sealer {header.sealer} is past {n} sealers", index=header.sealer
        )
    seen: set[int] = set()
    for index, _ in header.signatures:
        if index >= n:
            raise SealerIndexOutOfRange(f"signature index {index} is past {n} sealers", index=index)
        if index in seen:
            raise DuplicateSealer(f"sealer {index} signs twice", index=index)
        seen.add(index)
    needed = compute_quorum(n)
    if len(seen) < needed:
        raise InsufficientSealers(f"{len(seen)} of {n} sealers signed, {needed} needed")
    for index, signature in header.signatures:
        if recover_sealer_key(header.hash, signature) != sealers[index]:
            raise BadSealerSignature(
                f"the signature of sealer {index} does not verify", index=index
            )
    return sorted(seen)

"""The Pujiang subchain wire format (``docs/pujiang-chain.md``), as RLP sedes.

One module owns the encoding so the devnet node that writes blocks and the
light client that verifies them can never disagree on a byte. Encoding and
decoding are the ``rlp`` package's (``Serializable`` sedes, strict decoding:
canonical lengths, no leading zeros, no trailing bytes); what is written here
is only the field lists, the domain tags of the signed payloads, and the
bounds the spec sets.

Every ``decode_*`` raises ``BadEncoding`` naming the object on malformed
bytes; nothing here reads a clock or does I/O.

Two objects are decoded by hand on top of ``rlp.decode``: ``decode_event`` and
``decode_packet`` read the raw nested lists of bytes and check the shape the sedes
would (field count, bytes where bytes belong, integers minimal: no leading zero byte),
then build the same ``Event`` / ``Packet``. Every event of every listed block is
decoded by the relayer's watcher, by each notary and by the devnet serving it, and each
packet event's packet again by the bridge (issue #15): the sedes layer cost about
three times the raw decode (``bench/pujiang_decode.py``: 63 µs an event against 16 µs
for ``rlp.decode`` of the same bytes). The sedes decoders stay as the reference
(``reference_decode_event``, ``reference_decode_packet``); ``tests/proofs/pujiang/
test_fast_decode.py`` holds them equal, value or refusal, on valid and mutated bytes.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TypeVar

import rlp
from rlp.exceptions import DeserializationError
from rlp.sedes import BigEndianInt, Binary, CountableList, List, Serializable, binary, raw

from core.errors import BadEncoding, InvalidInput
from proofs.hashing import SHA256, HashFunction, get_hash_function
from proofs.merkle import merkle_root
from proofs.rlp_bounds import MAX_WIRE_DEPTH, list_depth
from proofs.rlp_lists import rlp_list_of_encoded, rlp_of, uint_bytes

FORMAT_VERSION = 1
HASH_LENGTH = 32
PUBKEY_LENGTH = 48
POP_LENGTH = 96
SIGNATURE_LENGTH = 96
MAX_VALIDATORS = 1024
MAX_TOTAL_POWER = 2**62
ZERO_HASH = bytes(HASH_LENGTH)
NOTARY_SIGNATURE_LENGTH = 65
MAX_CERTIFICATE_SIGNATURES = 256

COMMIT_TAG = b"pujiang/commit/v1"
TX_TAG = b"pujiang/tx/v1"
VALSET_TAG = b"pujiang/valset/v1"
PACKET_TAG = b"pujiang/packet/v1"
NONDELIVERY_TAG = b"pujiang/nondelivery/v1"
BATCH_TAG = b"pujiang/batch/v1"
ROTATION_TAG = b"pujiang/notary-rotation/v1"
MAX_BATCH_PROOF = 8  # hashes in a proof of a batch of at most 256 (core.batches.MAX_BATCH_SIZE)
MAX_BATCH_MEMBERS = 256

hash32 = Binary.fixed_length(HASH_LENGTH)


class StrictBigEndianInt(BigEndianInt):
    """pyrlp's ``big_endian_int``, refusing a list where an integer belongs.

    pyrlp reads an empty list (``0xc0``) as 0 and lets a non-empty list fail
    with a bare ``TypeError``; either would break "one canonical encoding".
    """

    def deserialize(self, serial: object) -> int:
        if not isinstance(serial, bytes | bytearray):
            raise DeserializationError("expected an integer, found a list", serial)
        return int(super().deserialize(serial))


big_endian_int = StrictBigEndianInt()
"""Every unsigned integer of the format (minimal big-endian, 0 is the empty string)."""


class Validator(Serializable):
    """``[bls_pubkey, power, pop]``; the position in its set is its bitmap index."""

    fields = (
        ("bls_pubkey", Binary.fixed_length(PUBKEY_LENGTH)),
        ("power", big_endian_int),
        ("pop", Binary.fixed_length(POP_LENGTH)),
    )


ValidatorSetSedes = CountableList(Validator, max_length=MAX_VALIDATORS)


class Header(Serializable):
    """A block header; ``compute_header_hash`` is ``H(rlp(header))``."""

    fields = (
        ("version", big_endian_int),
        ("chain_id", binary),
        ("height", big_endian_int),
        ("time_ms", big_endian_int),
        ("parent_hash", hash32),
        ("last_commit_hash", hash32),
        ("tx_root", hash32),
        ("tx_count", big_endian_int),
        ("events_root", hash32),
        ("event_count", big_endian_int),
        ("state_root", hash32),
        ("state_size", big_endian_int),
        ("validators_hash", hash32),
        ("next_validators_hash", hash32),
    )


class Commit(Serializable):
    """More than 2/3 of a set's power signing one header at one round."""

    fields = (
        ("height", big_endian_int),
        ("round", big_endian_int),
        ("header_hash", hash32),
        ("signers", binary),
        ("aggregate_signature", Binary.fixed_length(SIGNATURE_LENGTH)),
    )


class Event(Serializable):
    """One leaf of a block's events root."""

    fields = (
        ("kind", binary),
        ("tx_index", big_endian_int),
        ("event_index", big_endian_int),
        ("attributes", CountableList(List([binary, binary]))),
    )

    def attribute(self, key: bytes) -> bytes:
        for k, v in self.attributes:
            if k == key:
                return v
        raise KeyError(key)


class Packet(Serializable):
    """A cross-chain packet; (source_chain, dest_chain, sequence) is its identity."""

    fields = (
        ("source_chain", binary),
        ("dest_chain", binary),
        ("sequence", big_endian_int),
        ("sender", binary),
        ("receiver", binary),
        ("denom", binary),
        ("amount", big_endian_int),
        ("payload", binary),
        ("timeout_height", big_endian_int),
        ("timeout_time_ms", big_endian_int),
    )


class Certificate(Serializable):
    """A notary certificate ``rlp([[signature (65 bytes, r‖s‖v), ...]])`` over a packet digest."""

    fields = (
        (
            "signatures",
            CountableList(
                Binary.fixed_length(NOTARY_SIGNATURE_LENGTH),
                max_length=MAX_CERTIFICATE_SIGNATURES,
            ),
        ),
    )


class BatchStatement(Serializable):
    """``core.batches.BatchStatement`` on the wire: route, committee epoch, kind, size and
    the RFC 6962 root (the chain's hash) over the members' packet digests."""

    fields = (
        ("source_chain", binary),
        ("dest_chain", binary),
        ("epoch", big_endian_int),
        ("kind", big_endian_int),
        ("size", big_endian_int),
        ("root", Binary.fixed_length(HASH_LENGTH)),
    )


class BatchMember(Serializable):
    """One packet of a stored root with its leaf index and inclusion proof (leaf side first)."""

    fields = (
        ("packet", Packet),
        ("index", big_endian_int),
        ("proof", CountableList(Binary.fixed_length(HASH_LENGTH), max_length=MAX_BATCH_PROOF)),
    )


BatchMembers = CountableList(BatchMember, max_length=MAX_BATCH_MEMBERS)


class TxBody(Serializable):
    """What an account signs; ``args`` is an RLP list whose shape depends on ``kind``."""

    fields = (
        ("chain_id", binary),
        ("nonce", big_endian_int),
        ("kind", binary),
        ("args", raw),
    )


class _AccountKey(Binary):
    """An account public key: 32 bytes (Ed25519) or 65 bytes ``04||x||y`` (SM2, gm chains).

    Exactly those two lengths decode; which one a chain accepts is its account
    scheme's business (``devnet.txs.check_tx``, ``proofs.pujiang.accounts``).
    """

    def __init__(self) -> None:
        super().__init__(ACCOUNT_KEY_LENGTHS[0], ACCOUNT_KEY_LENGTHS[-1])

    def is_valid_length(self, length: int) -> bool:
        return length in ACCOUNT_KEY_LENGTHS


ACCOUNT_KEY_LENGTHS = (32, 65)
"""Ed25519 and SM2 (``04||x||y``) public keys."""


class Transaction(Serializable):
    """A signed transaction: Ed25519 (or SM2 on a gm chain) over ``rlp([TX_TAG, body])``."""

    fields = (
        ("body", TxBody),
        ("pubkey", _AccountKey()),
        ("signature", Binary.fixed_length(64)),
    )


S = TypeVar("S")

RawItem = bytes | int | Serializable | Sequence["RawItem"]


def to_raw(item: RawItem) -> object:
    """Transaction ``args`` as RLP's raw nested lists of bytes (ints big-endian, minimal)."""
    if isinstance(item, bool):
        raise InvalidInput("booleans have no RLP encoding here; use 0 or 1")
    if isinstance(item, int):
        return big_endian_int.serialize(item)
    if isinstance(item, bytes | bytearray):
        return bytes(item)
    if isinstance(item, Serializable):
        return type(item).serialize(item)
    return [to_raw(x) for x in item]


def raw_int(item: object, what: str) -> int:
    """Read an unsigned integer out of raw ``args``; ``BadEncoding`` if it is not one."""
    if not isinstance(item, bytes) or item[:1] == b"\x00":
        raise BadEncoding(f"{what} is not a canonical unsigned integer")
    return int.from_bytes(item, "big")


def encode(obj: Serializable | Sequence[Serializable]) -> bytes:
    """Canonical bytes of any wire object (a validator set is a list of validators)."""
    if isinstance(obj, Serializable):
        return rlp.encode(obj)
    return rlp.encode(list(obj), sedes=ValidatorSetSedes)


def _bounded(data: bytes, what: str) -> bytes:
    """``data`` as ``bytes``, refused before any decoding if it is not bytes or nests too deep."""
    if not isinstance(data, bytes | bytearray):
        raise BadEncoding(f"{what} must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if list_depth(data) > MAX_WIRE_DEPTH:  # before rlp recurses into it
        raise BadEncoding(f"{what} nests lists deeper than {MAX_WIRE_DEPTH} levels")
    return data


def _decode(data: bytes, sedes: object, what: str) -> S:  # type: ignore[type-var]
    data = _bounded(data, what)
    try:
        return rlp.decode(data, sedes=sedes, strict=True)  # type: ignore[no-any-return]
    except rlp.exceptions.RLPException as err:
        raise BadEncoding(f"{what} is not canonical RLP of its fields: {err}") from err


def _decode_items(data: bytes, what: str) -> tuple[bytes, list[object]]:
    """Strict ``rlp.decode`` without sedes: the bytes and their top-level list of items."""
    data = _bounded(data, what)
    try:
        item = rlp.decode(data, strict=True)
    except rlp.exceptions.RLPException as err:
        raise BadEncoding(f"{what} is not canonical RLP of its fields: {err}") from err
    if type(item) is not list:
        raise BadEncoding(f"{what} is not canonical RLP of its fields: a string, not a list")
    return data, item


def _misshapen(what: str, why: str) -> BadEncoding:
    return BadEncoding(f"{what} is not canonical RLP of its fields: {why}")


def _uint(item: object, what: str, name: str) -> int:
    """A ``big_endian_int`` field of raw items: bytes without a leading zero byte."""
    if type(item) is not bytes:
        raise _misshapen(what, f"{name} is a list, not an integer")
    if item[:1] == b"\x00":
        raise _misshapen(what, f"{name} is not minimal (leading zero byte)")
    return int.from_bytes(item, "big")


def decode_header(data: bytes) -> Header:
    header: Header = _decode(data, Header, "header")
    if header.version != FORMAT_VERSION:
        raise BadEncoding(f"header version {header.version} is not {FORMAT_VERSION}")
    return header


def decode_commit(data: bytes) -> Commit:
    return _decode(data, Commit, "commit")


def decode_validator_set(data: bytes) -> list[Validator]:
    validators: list[Validator] = list(_decode(data, ValidatorSetSedes, "validator set"))
    validate_validator_set_shape(validators)
    return validators


def decode_event(data: bytes) -> Event:
    """An event leaf, checked by hand on ``rlp.decode``'s lists (see the module's docstring);
    accepts and refuses exactly as ``reference_decode_event``."""
    data, item = _decode_items(data, "event")
    if len(item) != 4:
        raise _misshapen("event", f"{len(item)} fields, not 4")
    kind, tx_index, event_index, attributes = item
    if type(kind) is not bytes:
        raise _misshapen("event", "kind is a list, not bytes")
    if type(attributes) is not list:
        raise _misshapen("event", "attributes are a string, not a list")
    for pair in attributes:
        if type(pair) is not list or len(pair) != 2:
            raise _misshapen("event", "an attribute is not a [key, value] pair")
        if type(pair[0]) is not bytes or type(pair[1]) is not bytes:
            raise _misshapen("event", "an attribute's key or value is a list, not bytes")
    event = Event(
        kind,
        _uint(tx_index, "event", "tx_index"),
        _uint(event_index, "event", "event_index"),
        tuple(map(tuple, attributes)),
    )
    event._cached_rlp = data  # as rlp.decode sets it: encoding the event again is free
    return event


def reference_decode_event(data: bytes) -> Event:
    """``decode_event`` by the ``Event`` sedes: the reference the fast path is tested against."""
    return _decode(data, Event, "event")


PACKET_INTS = frozenset(
    i for i, (_, sedes) in enumerate(Packet._meta.fields) if sedes is big_endian_int
)
"""Positions of ``Packet``'s ``big_endian_int`` fields (sequence, amount, the timeouts); every
other field is ``binary`` (``tests/proofs/pujiang/test_fast_decode.py`` checks both)."""


def decode_packet(data: bytes) -> Packet:
    """A packet, checked by hand on ``rlp.decode``'s list (see the module's docstring);
    accepts and refuses exactly as ``reference_decode_packet``."""
    data, item = _decode_items(data, "packet")
    packet = Packet(*_packet_values(item, "packet"))
    packet._cached_rlp = data
    return packet


def _packet_values(item: object, what: str) -> list[object]:
    """A packet's field values from ``rlp.decode``'s item, checked as the ``Packet`` sedes
    checks them (ten fields, integers minimal, bytes elsewhere); ``BadEncoding`` naming
    ``what`` otherwise."""
    if type(item) is not list:
        raise _misshapen(what, "a packet is a string, not a list")
    if len(item) != 10:
        raise _misshapen(what, f"{len(item)} fields, not 10")
    values: list[object] = []
    for index, value in enumerate(item):
        if index in PACKET_INTS:
            values.append(_uint(value, what, Packet._meta.field_names[index]))
        elif type(value) is bytes:
            values.append(value)
        else:
            raise _misshapen(what, f"{Packet._meta.field_names[index]} is a list, not bytes")
    return values


def reference_decode_packet(data: bytes) -> Packet:
    """``decode_packet`` by the ``Packet`` sedes: the reference the fast path is tested against."""
    return _decode(data, Packet, "packet")


def decode_certificate(data: bytes) -> Certificate:
    return _decode(data, Certificate, "certificate")


def decode_batch_statement(data: bytes) -> BatchStatement:
    return _decode(data, BatchStatement, "batch statement")


def decode_batch_members(data: bytes) -> list[BatchMember]:
    return list(_decode(data, BatchMembers, "batch members"))


def check_batch_members(data: bytes) -> int:
    """How many members ``data`` holds, checked by hand on ``rlp.decode``'s lists: accepts
    and refuses (``BadEncoding``) exactly as :func:`decode_batch_members`, without building
    the objects. The relayer checks the members of every batch transaction it signs this
    way (issue #15, ``bench/pujiang_batch_tx.py``); ``tests/proofs/pujiang/test_fast_decode.py``
    holds the two equal on valid, damaged and reshaped bytes."""
    what = "batch members"
    _data, items = _decode_items(data, what)
    if len(items) > MAX_BATCH_MEMBERS:
        raise _misshapen(what, f"{len(items)} members, more than {MAX_BATCH_MEMBERS}")
    for member in items:
        if type(member) is not list or len(member) != 3:
            raise _misshapen(what, "a member is not [packet, index, proof]")
        packet, index, proof = member
        _packet_values(packet, what)
        _uint(index, what, "index")
        if type(proof) is not list or len(proof) > MAX_BATCH_PROOF:
            raise _misshapen(what, f"a proof is a list of at most {MAX_BATCH_PROOF} hashes")
        for node in proof:
            if type(node) is not bytes or len(node) != HASH_LENGTH:
                raise _misshapen(what, f"a proof hash is {HASH_LENGTH} bytes")
    return len(items)


def decode_transaction(data: bytes) -> Transaction:
    return _decode(data, Transaction, "transaction")


# --- hashes and signed payloads -------------------------------------------------


def hash_profile(name: str) -> HashFunction:
    """The chain's ``H`` from its genesis (``sha256`` or ``sm3``)."""
    if name not in ("sha256", "sm3"):
        raise InvalidInput(f"a Pujiang chain hashes with sha256 or sm3, not {name!r}")
    return get_hash_function(name)


def compute_header_hash(header: Header, hash_fn: HashFunction = SHA256) -> bytes:
    return hash_fn(rlp.encode(header))


def compute_commit_hash(commit: Commit, hash_fn: HashFunction = SHA256) -> bytes:
    """``last_commit_hash`` of the next header."""
    return hash_fn(rlp.encode(commit))


def compute_commit_signing_payload(
    chain_id: bytes, height: int, round_: int, header_hash: bytes
) -> bytes:
    """The message every validator signs; the chain id keeps it on this chain."""
    return rlp.encode([COMMIT_TAG, chain_id, height, round_, header_hash])


def compute_validators_hash(
    validators: Sequence[Validator], hash_fn: HashFunction = SHA256
) -> bytes:
    """RFC 6962 root over ``rlp([pubkey, power])``; the PoP is a property of the key alone."""
    leaves = [rlp.encode([v.bls_pubkey, v.power]) for v in validators]
    return merkle_root(leaves, hash_fn=hash_fn)


def compute_valset_update_payload(chain_id: bytes, epoch: int, new_set_hash: bytes) -> bytes:
    return rlp.encode([VALSET_TAG, chain_id, epoch, new_set_hash])


def compute_tx_signing_message(body: TxBody) -> bytes:
    return rlp.encode([TX_TAG, rlp.encode(body)])


# --- transactions assembled from encoded parts (the relayer's hot path) ------------
#
# Why by hand: the relayer signs one transaction per batch of up to 256 members, and
# building it through ``TxBody`` meant decoding the members into ``Serializable`` objects,
# turning them back into raw lists and encoding them twice (body, then transaction):
# ~7 % of the relayer's CPU on the anvil -> devnet path (issue #15). These assemble the
# same bytes from RLP already in hand with pyrlp's ``length_prefix`` (``proofs.rlp_lists``);
# ``tests/adapters/test_pujiang_tx_assembly.py`` holds them equal to the sedes path.


def encode_tx_body(chain_id: bytes, nonce: int, kind: bytes, args_rlp: bytes) -> bytes:
    """``rlp.encode(TxBody(chain_id, nonce, kind, args))`` where ``args_rlp`` is the RLP
    of ``args`` (a list, canonical: the caller decoded or encoded it)."""
    if nonce < 0:
        raise InvalidInput("a nonce is a non-negative integer")
    if not args_rlp or args_rlp[0] < 0xC0:
        raise InvalidInput("a transaction's args are an RLP list")
    return rlp_list_of_encoded(
        [rlp_of(chain_id), rlp_of(uint_bytes(nonce)), rlp_of(kind), args_rlp]
    )


def tx_signing_message_of(body_rlp: bytes) -> bytes:
    """``compute_tx_signing_message`` of the body whose RLP is ``body_rlp``."""
    return rlp_of([TX_TAG, body_rlp])


def encode_signed_tx(body_rlp: bytes, pubkey: bytes, signature: bytes) -> bytes:
    """``rlp.encode(Transaction(body, pubkey, signature))`` of the body whose RLP is
    ``body_rlp`` (the body nests as a list, the key and signature as strings)."""
    return rlp_list_of_encoded([body_rlp, rlp_of(pubkey), rlp_of(signature)])


def packet_rlp_of(fields: Sequence[bytes | int]) -> bytes:
    """``rlp.encode(Packet(*fields))`` of the ten fields in ``Packet``'s order, integers
    (non-negative) where ``Packet`` has them and bytes elsewhere (the caller's types: a
    batch's leaves and members are built from checked core packets, issue #15)."""
    if len(fields) != len(Packet._meta.fields):
        raise InvalidInput(f"a packet has {len(Packet._meta.fields)} fields")
    return rlp_of([uint_bytes(f) if isinstance(f, int) else f for f in fields])  # type: ignore[misc]


def batch_member_rlp(packet_rlp: bytes, index: int, proof: Sequence[bytes]) -> bytes:
    """``rlp.encode(BatchMember(packet, index, proof))`` of a packet given as its RLP; the
    bounds the sedes would refuse (a proof hash of another length, a proof too long) are
    refused here as ``InvalidInput``."""
    if len(proof) > MAX_BATCH_PROOF or any(len(h) != HASH_LENGTH for h in proof):
        raise InvalidInput(f"a batch proof is at most {MAX_BATCH_PROOF} hashes of 32 bytes")
    return rlp_list_of_encoded([packet_rlp, rlp_of(uint_bytes(index)), rlp_of(list(proof))])


def compute_tx_hash(tx: Transaction, hash_fn: HashFunction = SHA256) -> bytes:
    return hash_fn(rlp.encode(tx))


def compute_address(pubkey: bytes, hash_fn: HashFunction = SHA256) -> bytes:
    """An account's 20-byte address: the head of the hash of its public key (Ed25519's 32
    bytes, or SM2's 65 bytes ``04||x||y`` on a gm chain)."""
    return hash_fn(pubkey)[:20]


def compute_packet_digest(packet: Packet, hash_fn: HashFunction = SHA256) -> bytes:
    """What notaries sign to attest a packet for delivery."""
    return compute_packet_digest_of_rlp(rlp.encode(packet), hash_fn)


def compute_packet_digest_of_rlp(packet_rlp: bytes, hash_fn: HashFunction = SHA256) -> bytes:
    """``compute_packet_digest`` of the packet whose RLP is ``packet_rlp`` (``packet_rlp_of``)."""
    return hash_fn(rlp_of([PACKET_TAG, packet_rlp]))


def compute_nondelivery_digest(packet: Packet, hash_fn: HashFunction = SHA256) -> bytes:
    """What notaries sign to attest that a packet timed out undelivered."""
    return hash_fn(rlp.encode([NONDELIVERY_TAG, rlp.encode(packet)]))


def compute_batch_digest(statement: BatchStatement, hash_fn: HashFunction = SHA256) -> bytes:
    """What notaries sign so that the acting chain stores a batch root:
    ``H(rlp([b"pujiang/batch/v1", source, dest, epoch, kind, size, root]))``."""
    return hash_fn(
        rlp.encode(
            [
                BATCH_TAG,
                statement.source_chain,
                statement.dest_chain,
                statement.epoch,
                statement.kind,
                statement.size,
                statement.root,
            ]
        )
    )


def compute_notary_rotation_digest(
    chain_id: bytes,
    epoch: int,
    threshold: int,
    members: Sequence[bytes],
    hash_fn: HashFunction = SHA256,
) -> bytes:
    """What the CURRENT notary committee signs to hand over to the committee of ``epoch``:
    ``H(rlp([b"pujiang/notary-rotation/v1", chain_id, epoch, threshold, [member, ...]]))``."""
    return hash_fn(rlp.encode([ROTATION_TAG, chain_id, epoch, threshold, list(members)]))


# --- bitmaps and sets -------------------------------------------------------------


def encode_signers(indices: Sequence[int], set_size: int) -> bytes:
    """Bitmap of ``ceil(n/8)`` bytes, bit ``i`` at ``byte[i // 8] >> (i % 8)``."""
    bitmap = bytearray((set_size + 7) // 8)
    for i in indices:
        if not 0 <= i < set_size:
            raise InvalidInput(f"signer index {i} outside a set of {set_size}")
        bitmap[i // 8] |= 1 << (i % 8)
    return bytes(bitmap)


def decode_signers(bitmap: bytes, set_size: int) -> list[int]:
    """Signer indices of a bitmap; ``BadEncoding`` on a wrong length or stray bits."""
    if len(bitmap) != (set_size + 7) // 8:
        need = (set_size + 7) // 8
        raise BadEncoding(
            f"signer bitmap has {len(bitmap)} bytes, a set of {set_size} needs {need}"
        )
    indices = [i for i in range(len(bitmap) * 8) if bitmap[i // 8] >> (i % 8) & 1]
    if indices and indices[-1] >= set_size:
        raise BadEncoding(f"signer bitmap sets bit {indices[-1]} past the set of {set_size}")
    return indices


def validate_validator_set_shape(validators: Sequence[Validator]) -> None:
    """Bounds and order of a set (keys themselves are checked by ``proofs.bls``)."""
    if not 1 <= len(validators) <= MAX_VALIDATORS:
        raise BadEncoding(f"a validator set has 1..{MAX_VALIDATORS} members, not {len(validators)}")
    keys = [v.bls_pubkey for v in validators]
    if any(a >= b for a, b in itertools.pairwise(keys)):
        raise BadEncoding("validators must be sorted by ascending public key, without duplicates")
    if any(v.power < 1 for v in validators):
        raise BadEncoding("every validator has power of at least 1")
    if sum(v.power for v in validators) >= MAX_TOTAL_POWER:
        raise BadEncoding("total voting power must stay below 2**62")


def has_quorum(signed_power: int, total_power: int) -> bool:
    """More than two thirds, in integers (no float rounding at the boundary)."""
    return signed_power * 3 > total_power * 2


def has_trust_overlap(signed_power: int, total_power: int) -> bool:
    """More than one third: at least one honest signer if fewer than 1/3 are faulty."""
    return signed_power * 3 > total_power

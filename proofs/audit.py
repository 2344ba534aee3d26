"""The audit log's hash chain and its signed checkpoints: the pure rules (``docs/supervision.md``).

An audit entry is a JSON object; its bytes are the RFC 8785 canonical form
(JSON Canonicalization Scheme, through the ``rfc8785`` package, so two
implementations agree byte for byte). Each entry commits to the previous one::

    hash_0 = 32 zero bytes                       (the genesis link)
    hash_n = sha256(canonical_bytes(entry_n) ‖ hash_{n-1})

and ``entry_n["seq"] == n`` (from 1, no gaps), so removing, changing,
inserting or reordering an entry breaks the chain at that entry. Values are
restricted to what RFC 8785 renders exactly: strings, integers in
±(2**53 − 1), booleans, null, arrays and objects (no floats: times are
integer milliseconds).

:func:`canonical_bytes` is hand-written around the standard library for speed (the hub
canonicalises about ten entries per transfer, issue #15): for a value made only of
plain ``dict`` objects with ASCII keys, ``list``, ``str``, ``int`` within ±(2**53 − 1),
``bool`` and ``None``, ``json.dumps(sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` writes exactly the RFC 8785 bytes (sorting ASCII keys by code
point is sorting them by UTF-16 unit; ints print in decimal; strings escape the same
characters the same way; UTF-8 for the rest), about ten times faster than the pure-Python
``rfc8785`` package. Anything else (a non-ASCII key, a subclass of a plain type, a
string that is not valid UTF-8) goes to ``rfc8785``, which stays the reference: a
property test asserts byte equality with it (``tests/proofs/test_audit_canonical.py``).

:func:`entry_bytes` writes the same bytes for an entry given field by field, without
building its dict (the audit log's commit, about eight entries per transfer): the fields
are fixed, so their sorted order is, and each value is written as the fast path writes
it; it answers ``None`` for anything not plainly ``str`` / ``int`` / ``None`` (and for a
side that :func:`side_text` leaves to the reference), and the caller asks
:func:`canonical_bytes`. The tests hold the two equal.

A checkpoint is the hub's secp256k1 signature over
``sha256("pjgw-audit-checkpoint-v1" ‖ seq (8 bytes BE) ‖ head hash ‖ at_ms (8 bytes BE))``
(``r ‖ s ‖ v``, low ``s``, v 27/28: the notaries' rule, ``proofs.notary.ecdsa``), so
anyone holding the hub's address can check that the hub vouched for a head.

:func:`validate_chain` checks, per entry in order: the entry is an object with
the fields of :data:`ENTRY_FIELDS` (``AuditBroken: malformed``), its ``seq`` is
the next one (``out-of-order``: a removed, inserted or moved entry), its
``prev`` is the previous hash (``prev-mismatch``) and its ``hash`` is the one
recomputed (``hash-mismatch``: a changed entry). Pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import rfc8785

from core.errors import InvalidInput, VerificationError
from proofs.notary.ecdsa import PUJIANG_BRIDGE, address_of_private_key, recover, sign, to_address

GENESIS = bytes(32)
CHECKPOINT_DOMAIN = b"pjgw-audit-checkpoint-v1"
ENTRY_VERSION = 1
MAX_SAFE_INT = 2**53 - 1
ENTRY_FIELDS = (
    "v",
    "seq",
    "at_ms",
    "actor",
    "role",
    "request_id",
    "action",
    "subject",
    "subject_id",
    "before",
    "after",
    "reason",
)
"""The hashed fields of an entry (``prev`` and ``hash`` travel beside them in an export)."""


class AuditBroken(VerificationError):
    """The audit chain does not verify; ``details["seq"]`` names the first bad entry."""

    code = "audit-broken"


def canonical_bytes(entry: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of the hashed fields of ``entry`` (``InvalidInput`` on a value it
    cannot render exactly: a float, an integer past 2**53 − 1, a non-string key)."""
    body = {name: entry[name] for name in ENTRY_FIELDS if name in entry}
    if _check_values(body, "entry"):
        try:
            return _FAST(body).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it below
            pass
    try:
        return rfc8785.dumps(body)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as err:
        raise InvalidInput(f"audit entry cannot be canonicalized: {err}", field="entry") from err


_FAST = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode
"""The standard library's encoder, set to write RFC 8785 bytes for plain values (module)."""
_PLAIN_SCALARS = (str, int, bool, type(None))


_STRING = json.encoder.encode_basestring
"""How ``_FAST`` writes a string (the C encoder when present, as ``ensure_ascii=False``)."""


def side_text(value: Any) -> str | None:
    """An entry's ``before`` or ``after`` as :func:`canonical_bytes` writes it inside the
    entry, for :func:`entry_bytes`; ``None`` when only the reference can render it (a
    non-ASCII key, a subclass): then :func:`entry_bytes` is not the way."""
    if value is None:
        return "null"
    if type(value) is dict and _check_values(value, "entry.side"):
        return _FAST(value)
    return None


def entry_bytes(
    *,
    seq: int,
    at_ms: int,
    actor: str,
    role: str,
    request_id: str | None,
    action: str,
    subject: str,
    subject_id: str,
    before: str | None,
    after: str | None,
    reason: str,
) -> bytes | None:
    """:func:`canonical_bytes` of the entry with these fields, written without building it:
    its fields are fixed, so their order is (RFC 8785 sorts the keys), and each value is
    written as ``_FAST`` writes it. ``before`` / ``after`` are their :func:`side_text`.
    ``None`` when a value is not plainly a ``str`` / ``int`` within ±(2**53 − 1) / ``None``
    (or a side text is missing): the caller then asks :func:`canonical_bytes`, which decides
    or refuses. The audit log writes about ten entries per transfer (issue #15);
    ``tests/proofs/test_audit_canonical.py`` holds this equal to :func:`canonical_bytes`."""
    if before is None or after is None:
        return None
    for number in (seq, at_ms):
        if type(number) is not int or not -MAX_SAFE_INT <= number <= MAX_SAFE_INT:
            return None
    for text in (actor, role, action, subject, subject_id, reason):
        if type(text) is not str:
            return None
    if request_id is None:
        request = "null"
    elif type(request_id) is str:
        request = _STRING(request_id)
    else:
        return None
    body = (
        f'{{"action":{_STRING(action)},"actor":{_STRING(actor)},"after":{after},'
        f'"at_ms":{at_ms},"before":{before},"reason":{_STRING(reason)},'
        f'"request_id":{request},"role":{_STRING(role)},"seq":{seq},'
        f'"subject":{_STRING(subject)},"subject_id":{_STRING(subject_id)},"v":{ENTRY_VERSION}}}'
    )
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: the reference refuses it
        return None


def compute_entry_hash(entry: Mapping[str, Any], prev: bytes) -> bytes:
    """``sha256(canonical_bytes(entry) ‖ prev)``."""
    if len(prev) != 32:
        raise InvalidInput("a previous hash is 32 bytes", field="prev")
    return hashlib.sha256(canonical_bytes(entry) + bytes(prev)).digest()


def _check_values(value: Any, where: str) -> bool:
    """Refuse what RFC 8785 cannot render exactly; whether ``value`` is plain (made of
    exactly the types the fast path renders: ``dict`` with ASCII keys, ``list``, ``str``,
    ``int``, ``bool``, ``None``)."""
    kind = type(value)
    if kind is dict:  # the common case first, its scalars checked inline (the hot loop)
        plain = True
        for key, item in value.items():
            if type(key) is not str:
                if not isinstance(key, str):
                    raise InvalidInput(f"{where}: a non-string key", field="entry")
                plain = False
            elif not key.isascii():
                plain = False
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is int and -MAX_SAFE_INT <= item <= MAX_SAFE_INT:
                continue
            plain = _check_values(item, f"{where}.{key}") and plain
        return plain
    if kind in _PLAIN_SCALARS:
        if kind is int and not -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            raise InvalidInput(f"{where}: integer {value} outside ±(2**53-1)", field="entry")
        return True
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return False  # a subclass: rendered by the reference
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise InvalidInput(f"{where}: integer {value} outside ±(2**53-1)", field="entry")
        return False
    if isinstance(value, list):
        plain = kind is list
        for item in value:
            plain = _check_values(item, where) and plain
        return plain
    if isinstance(value, dict):  # a subclass of dict
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInput(f"{where}: a non-string key", field="entry")
            _check_values(item, f"{where}.{key}")
        return False
    raise InvalidInput(f"{where}: {type(value).__name__} is not allowed", field="entry")


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a verified chain ends: its last ``seq`` and hash (``GENESIS`` when empty)."""

    seq: int
    hash: bytes


def validate_chain(
    entries: Iterable[Mapping[str, Any]], *, start: ChainHead = ChainHead(0, GENESIS)
) -> ChainHead:
    """Check an exported run of entries (each with ``prev`` and ``hash`` as hex) from
    ``start``; its head, or ``AuditBroken`` naming the first bad entry (see the module)."""
    seq, head = start.seq, start.hash
    for position, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping) or any(f not in entry for f in (*ENTRY_FIELDS, "hash")):
            raise AuditBroken(
                f"entry at line {position} is malformed", seq=seq + 1, position=position
            )
        expected = seq + 1
        if entry["seq"] != expected:
            raise AuditBroken(
                f"entry {expected} expected, found {entry['seq']!r} "
                "(an entry was removed, inserted or moved)",
                seq=expected,
                position=position,
                reason="out-of-order",
            )
        if "prev" in entry and _unhex(entry["prev"], expected) != head:
            raise AuditBroken(
                f"entry {expected}: prev does not link to entry {seq}",
                seq=expected,
                position=position,
                reason="prev-mismatch",
            )
        try:
            recomputed = compute_entry_hash(entry, head)
        except InvalidInput as err:
            raise AuditBroken(
                f"entry {expected}: {err.message}", seq=expected, position=position
            ) from err
        if _unhex(entry["hash"], expected) != recomputed:
            raise AuditBroken(
                f"entry {expected}: hash does not match its content (changed?)",
                seq=expected,
                position=position,
                reason="hash-mismatch",
            )
        seq, head = expected, recomputed
    return ChainHead(seq, head)


def _unhex(value: Any, seq: int) -> bytes:
    try:
        raw = bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise AuditBroken(f"entry {seq}: a hash is 32 bytes of hex", seq=seq, reason="malformed")
    return raw


# -- checkpoints -------------------------------------------------------------------------


def compute_checkpoint_digest(seq: int, head: bytes, at_ms: int) -> bytes:
    """The 32 bytes a checkpoint signs (see the module)."""
    if len(head) != 32:
        raise InvalidInput("a head hash is 32 bytes", field="head")
    if not (0 <= seq < 2**64 and 0 <= at_ms < 2**64):
        raise InvalidInput("seq and at_ms are uint64", field="seq")
    return hashlib.sha256(
        CHECKPOINT_DOMAIN + seq.to_bytes(8, "big") + bytes(head) + at_ms.to_bytes(8, "big")
    ).digest()


def sign_checkpoint(secret: bytes, seq: int, head: bytes, at_ms: int) -> bytes:
    """The hub's 65-byte signature over a checkpoint."""
    return sign(secret, compute_checkpoint_digest(seq, head, at_ms))


def signer_address(secret: bytes) -> bytes:
    return address_of_private_key(secret)


def is_checkpoint_signed_by(
    signer: bytes | str, seq: int, head: bytes, at_ms: int, signature: bytes
) -> bool:
    """Whether ``signature`` over the checkpoint recovers to ``signer`` (never raises)."""
    try:
        digest = compute_checkpoint_digest(seq, head, at_ms)
        return recover(digest, signature, PUJIANG_BRIDGE) == to_address(signer)
    except (VerificationError, InvalidInput, ValueError):
        return False


__all__ = [
    "CHECKPOINT_DOMAIN",
    "ENTRY_FIELDS",
    "ENTRY_VERSION",
    "GENESIS",
    "AuditBroken",
    "ChainHead",
    "canonical_bytes",
    "compute_checkpoint_digest",
    "compute_entry_hash",
    "entry_bytes",
    "is_checkpoint_signed_by",
    "side_text",
    "sign_checkpoint",
    "signer_address",
    "validate_chain",
]

"""Event and state proofs against a verified Pujiang header (RFC 6962 trees).

Wire objects (``docs/pujiang-chain.md``, "Light client"):

```
event_proof         = rlp([height, leaf_index, event, audit_path])
state_proof         = rlp([height, key, value, index, audit_path])       # membership
state_absence_proof = rlp([height, key, left, right])                    # non-membership
    left, right     = [] | [key, value, index, audit_path]               # bracketing leaves
```

SECURITY: the tree size is *never* read from a proof: it is ``event_count``
or ``state_size`` of the verified header. An RFC 6962 root does not commit to
its size (leaf 2 of a 3-leaf tree also verifies as leaf 1 of a 2-leaf tree
under the same root), so a size taken from the prover would unbind a leaf's
index — and with it the adjacency that a non-membership proof rests on.

SECURITY: non-membership relies on the state tree's leaves being sorted by
key, strictly ascending. That is a rule of the chain, enforced by the
validators who sign ``state_root``; a light client cannot check it from two
leaves, it trusts the quorum for it as for every other root.

Errors (``details["check"]``): ``BadEncoding`` ``encoding``; ``BadProof``
``proof-height``, ``state-key``, ``bracket``, ``adjacency``; ``BadProof`` or
``RootMismatch`` ``inclusion``; ``ValueMismatch`` ``state-value``;
``RootMismatch`` ``empty-state``.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

import rlp
from rlp.sedes import CountableList, Serializable, binary

from core.errors import BadEncoding, BadProof, RootMismatch, ValueMismatch
from proofs.hashing import HashFunction
from proofs.merkle import MAX_PROOF_LENGTH, empty_root, verify_inclusion
from proofs.pujiang.codec import Event, big_endian_int, hash32
from proofs.pujiang.commit import checking

S = TypeVar("S", bound=Serializable)

AuditPath = CountableList(hash32, max_length=MAX_PROOF_LENGTH)


class EventProof(Serializable):
    """``[height, leaf_index, event, audit_path]``: an event in a block's events root."""

    fields = (
        ("height", big_endian_int),
        ("leaf_index", big_endian_int),
        ("event", Event),
        ("audit_path", AuditPath),
    )


class StateLeaf(Serializable):
    """``[key, value, index, audit_path]``: leaf ``rlp([key, value])`` of the state tree."""

    fields = (
        ("key", binary),
        ("value", binary),
        ("index", big_endian_int),
        ("audit_path", AuditPath),
    )


class StateProof(Serializable):
    """``[height, key, value, index, audit_path]``: ``key`` holds ``value`` at ``height``."""

    fields = (
        ("height", big_endian_int),
        ("key", binary),
        ("value", binary),
        ("index", big_endian_int),
        ("audit_path", AuditPath),
    )


Bracket = CountableList(StateLeaf, max_length=1)


class StateAbsenceProof(Serializable):
    """``[height, key, left, right]``: the adjacent leaves around an absent ``key``."""

    fields = (
        ("height", big_endian_int),
        ("key", binary),
        ("left", Bracket),
        ("right", Bracket),
    )


class VerifiedRoots(Protocol):
    """What a proof is checked against: the roots and sizes of a verified header."""

    @property
    def height(self) -> int: ...
    @property
    def events_root(self) -> bytes: ...
    @property
    def event_count(self) -> int: ...
    @property
    def state_root(self) -> bytes: ...
    @property
    def state_size(self) -> int: ...


def _decode(data: bytes, sedes: type[S], what: str) -> S:
    """Strict RLP (canonical, no trailing bytes); ``BadEncoding`` check ``encoding``."""
    if not isinstance(data, bytes | bytearray):
        raise BadEncoding(f"{what} must be bytes", check="encoding", object=what)
    try:
        return rlp.decode(bytes(data), sedes=sedes, strict=True)  # type: ignore[no-any-return]
    except rlp.exceptions.RLPException as err:
        raise BadEncoding(
            f"{what} is not canonical RLP of its fields: {err}", check="encoding", object=what
        ) from err


def decode_event_proof(data: bytes) -> EventProof:
    return _decode(data, EventProof, "event proof")


def decode_state_proof(data: bytes) -> StateProof:
    return _decode(data, StateProof, "state proof")


def decode_state_absence_proof(data: bytes) -> StateAbsenceProof:
    return _decode(data, StateAbsenceProof, "state absence proof")


def compute_state_leaf(key: bytes, value: bytes) -> bytes:
    """The leaf data of one state entry: ``rlp([key, value])``."""
    return rlp.encode([key, value])


def _validate_height(proof_height: int, verified: VerifiedRoots) -> None:
    if proof_height != verified.height:
        raise BadProof(
            f"proof is for height {proof_height}, the verified header is {verified.height}",
            check="proof-height",
        )


def validate_event_proof(
    verified: VerifiedRoots, proof: EventProof, hash_fn: HashFunction
) -> Event:
    """The event, once proven to be leaf ``leaf_index`` of the header's events root.

    Checks: ``proof-height``; ``inclusion`` against ``(events_root, event_count)``.
    """
    _validate_height(proof.height, verified)
    with checking("inclusion"):
        verify_inclusion(
            rlp.encode(proof.event),
            proof.leaf_index,
            verified.event_count,
            list(proof.audit_path),
            verified.events_root,
            hash_fn=hash_fn,
        )
    return proof.event


def _validate_leaf(
    verified: VerifiedRoots,
    key: bytes,
    value: bytes,
    index: int,
    path: list[bytes],
    hash_fn: HashFunction,
) -> None:
    with checking("inclusion"):
        verify_inclusion(
            compute_state_leaf(key, value),
            index,
            verified.state_size,
            path,
            verified.state_root,
            hash_fn=hash_fn,
        )


def validate_state_proof(
    verified: VerifiedRoots,
    proof: StateProof,
    hash_fn: HashFunction,
    *,
    key: bytes | None = None,
    value: bytes | None = None,
) -> bytes:
    """The proven value of ``proof.key``; ``key``/``value``, when given, must match.

    Checks: ``proof-height``; ``state-key`` (``BadProof``); ``state-value``
    (``ValueMismatch``); ``inclusion``.
    """
    _validate_height(proof.height, verified)
    if key is not None and proof.key != key:
        raise BadProof("the proof is for another state key", check="state-key")
    if value is not None and proof.value != value:
        raise ValueMismatch("the state key holds another value", check="state-value")
    _validate_leaf(verified, proof.key, proof.value, proof.index, list(proof.audit_path), hash_fn)
    return bytes(proof.value)


def validate_state_absence_proof(
    verified: VerifiedRoots,
    proof: StateAbsenceProof,
    hash_fn: HashFunction,
    *,
    key: bytes | None = None,
) -> None:
    """Return when ``proof.key`` is absent from the verified state.

    Checks, in order: ``proof-height``; ``state-key``; the empty tree
    (``state_size == 0``): no brackets (``bracket``) and the empty root
    (``RootMismatch``, ``empty-state``); else at least one bracket, ``left.key <
    key < right.key`` (``bracket``); adjacency by index (``adjacency``:
    ``right.index == left.index + 1``, or ``left`` is the last leaf alone, or
    ``right`` the first leaf alone); then each bracket's ``inclusion``.
    """
    _validate_height(proof.height, verified)
    if key is not None and proof.key != key:
        raise BadProof("the proof is for another state key", check="state-key")
    left = proof.left[0] if proof.left else None
    right = proof.right[0] if proof.right else None
    size = verified.state_size
    if size == 0:
        if left is not None or right is not None:
            raise BadProof("the state is empty: no leaf can bracket a key", check="bracket")
        if verified.state_root != empty_root(hash_fn=hash_fn):
            raise RootMismatch(
                "state_size is 0 but state_root is not the empty root", check="empty-state"
            )
        return
    if left is None and right is None:
        raise BadProof("a non-empty state needs a bracketing leaf", check="bracket")
    if left is not None and not left.key < proof.key:
        raise BadProof("the left leaf's key is not below the absent key", check="bracket")
    if right is not None and not proof.key < right.key:
        raise BadProof("the right leaf's key is not above the absent key", check="bracket")
    _validate_adjacency(left, right, size)
    for leaf in (left, right):
        if leaf is not None:
            _validate_leaf(
                verified, leaf.key, leaf.value, leaf.index, list(leaf.audit_path), hash_fn
            )


def _validate_adjacency(left: StateLeaf | None, right: StateLeaf | None, size: int) -> None:
    if left is not None and right is not None:
        if right.index != left.index + 1:
            raise BadProof(
                f"bracketing leaves {left.index} and {right.index} are not adjacent",
                check="adjacency",
            )
    elif left is not None:
        if left.index != size - 1:
            raise BadProof(
                f"left leaf {left.index} alone must be the last of {size}", check="adjacency"
            )
    elif right is not None and right.index != 0:
        raise BadProof(f"right leaf {right.index} alone must be the first", check="adjacency")

"""ICS-23 existence and non-existence proofs: decoding, checking, verifying.

``verify_membership`` / ``verify_non_membership`` are the ICS-23 client
functions (``ics23.go``) with typed errors instead of booleans;
``verify_chained_membership`` is how IBC checks a Cosmos SDK store proof
(an IAVL proof of the key in its store, then a Tendermint-spec proof of the
store's root in the multistore, whose root is the header's ``app_hash``).

Order of checks in :func:`verify_existence` (the first failure raises):
the leaf and every inner op fit the spec (:class:`SpecMismatch`), the proof
is about ``key`` (:class:`KeyMismatch`) and ``value``
(``ValueMismatch``), the steps apply (:class:`InvalidStep`), the result is
``root`` (``RootMismatch``).
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from core.errors import RootMismatch, ValueMismatch
from proofs.ics23 import wire
from proofs.ics23.errors import KeyMismatch, MalformedProof, NotNeighbours, SpecMismatch
from proofs.ics23.ops import HashOp, InnerOp, LeafOp, LengthOp, do_hash_or_noop, require_enum
from proofs.ics23.specs import (
    DEFAULT_MAX_DEPTH,
    ProofSpec,
    check_inner,
    check_leaf,
    is_left_most,
    is_left_neighbour,
    is_right_most,
)

MAX_PATH: int = 1024
"""Decoding bound on steps (specs bound depth tighter; this bounds memory first)."""


@dataclass(frozen=True, slots=True)
class ExistenceProof:
    key: bytes
    value: bytes
    leaf: LeafOp | None
    path: tuple[InnerOp, ...] = ()

    def calculate(self, spec: ProofSpec | None = None) -> bytes:
        """The root this proof leads to (``InvalidStep`` when a step cannot apply)."""
        if self.leaf is None:
            raise SpecMismatch("existence proof needs a leaf op")
        result = self.leaf.apply(self.key, self.value)
        for step in self.path:
            result = step.apply(result)
            size = spec.inner_spec.child_size if spec is not None else 0
            if spec is not None and len(result) > size >= 32:
                raise SpecMismatch(
                    f"inner step output of {len(result)} bytes exceeds the child size"
                )
        return result

    def check_against_spec(self, spec: ProofSpec) -> None:
        """Leaf and steps fit ``spec``; depth within ``[min_depth, max_depth or 128]``."""
        if self.leaf is None:
            raise SpecMismatch("existence proof needs a leaf op")
        check_leaf(self.leaf, spec)
        max_depth = spec.max_depth or DEFAULT_MAX_DEPTH
        if spec.min_depth > 0 and len(self.path) < spec.min_depth:
            raise SpecMismatch(f"innerOps depth too short: {len(self.path)}")
        if len(self.path) > max_depth:
            raise SpecMismatch(f"innerOps depth too long: {len(self.path)}")
        for layer, step in enumerate(self.path, start=1):
            check_inner(step, spec, layer)

    @classmethod
    def decode(cls, data: bytes) -> ExistenceProof:
        f = wire.parse_fields(data)
        leaf_bytes = wire.last_bytes(f, 3)
        steps = wire.all_bytes(f, 4)
        if len(steps) > MAX_PATH:
            raise MalformedProof(f"proof of {len(steps)} steps exceeds {MAX_PATH}")
        leaf = None if leaf_bytes is None else LeafOp.decode(leaf_bytes)
        if leaf is not None:
            for name, enum in (
                ("hash", HashOp),
                ("prehash_key", HashOp),
                ("prehash_value", HashOp),
                ("length", LengthOp),
            ):
                require_enum(getattr(leaf, name), enum, name)
        path = tuple(InnerOp.decode(s) for s in steps)
        for step in path:
            require_enum(step.hash, HashOp, "hash")
        return cls(wire.last_bytes(f, 1) or b"", wire.last_bytes(f, 2) or b"", leaf, path)


@dataclass(frozen=True, slots=True)
class NonExistenceProof:
    key: bytes
    left: ExistenceProof | None
    right: ExistenceProof | None

    def calculate(self) -> bytes:
        neighbour = self.left or self.right
        if neighbour is None:
            raise SpecMismatch("non-existence proof has neither a left nor a right proof")
        return neighbour.calculate()

    @classmethod
    def decode(cls, data: bytes) -> NonExistenceProof:
        f = wire.parse_fields(data)
        left, right = wire.last_bytes(f, 2), wire.last_bytes(f, 3)
        return cls(
            wire.last_bytes(f, 1) or b"",
            None if left is None else ExistenceProof.decode(left),
            None if right is None else ExistenceProof.decode(right),
        )


Entry = ExistenceProof | NonExistenceProof


@dataclass(frozen=True, slots=True)
class CommitmentProof:
    """``CommitmentProof``: one existence or non-existence proof, or a batch of them
    (a compressed batch is decompressed when decoded)."""

    entries: tuple[Entry, ...]
    batch: bool = False

    @classmethod
    def decode(cls, data: bytes) -> CommitmentProof:
        """Decode the protobuf bytes; :class:`MalformedProof` when they are not a proof."""
        f = wire.parse_fields(data)
        present = [n for n in (1, 2, 3, 4) if f.get(n)]
        if len(present) != 1:
            raise MalformedProof("a commitment proof holds exactly one of exist/nonexist/batch")
        (number,) = present
        body = wire.last_bytes(f, number) or b""
        if number == 1:
            return cls((ExistenceProof.decode(body),))
        if number == 2:
            return cls((NonExistenceProof.decode(body),))
        if number == 3:
            return cls(
                tuple(_batch_entry(e) for e in wire.all_bytes(wire.parse_fields(body), 1)), True
            )
        return cls(_decompress(body), True)

    def existence_for(self, key: bytes) -> ExistenceProof:
        for entry in self.entries:
            if isinstance(entry, ExistenceProof) and entry.key == key:
                return entry
        raise KeyMismatch("the proof holds no existence proof for this key")

    def non_existence_for(self, key: bytes, spec: ProofSpec) -> NonExistenceProof:
        """The entry whose neighbours bracket ``key`` in the spec's key order."""
        target = _compare_key(spec, key)
        for entry in self.entries:
            if (
                isinstance(entry, NonExistenceProof)
                and (entry.left is None or _compare_key(spec, entry.left.key) < target)
                and (entry.right is None or _compare_key(spec, entry.right.key) > target)
            ):
                return entry
        raise KeyMismatch("the proof holds no non-existence proof bracketing this key")


def _batch_entry(data: bytes) -> Entry:
    f = wire.parse_fields(data)
    if f.get(1):
        return ExistenceProof.decode(wire.last_bytes(f, 1) or b"")
    if f.get(2):
        return NonExistenceProof.decode(wire.last_bytes(f, 2) or b"")
    raise MalformedProof("batch entry is neither exist nor nonexist")


def _decompress(data: bytes) -> tuple[Entry, ...]:
    f = wire.parse_fields(data)
    lookup = tuple(InnerOp.decode(b) for b in wire.all_bytes(f, 2))

    def exist(body: bytes | None) -> ExistenceProof | None:
        if body is None:
            return None
        g = wire.parse_fields(body)
        indices = wire.repeated_ints(g, 4)
        if len(indices) > MAX_PATH or any(not 0 <= i < len(lookup) for i in indices):
            raise MalformedProof("compressed proof refers outside its lookup table")
        leaf = wire.last_bytes(g, 3)
        return ExistenceProof(
            wire.last_bytes(g, 1) or b"",
            wire.last_bytes(g, 2) or b"",
            None if leaf is None else LeafOp.decode(leaf),
            tuple(lookup[i] for i in indices),
        )

    entries: list[Entry] = []
    for raw in wire.all_bytes(f, 1):
        e = wire.parse_fields(raw)
        if e.get(1):
            proof = exist(wire.last_bytes(e, 1))
            if proof is None:  # f.get(1) holds a value, so this never fires
                raise MalformedProof("compressed entry without its existence proof")
            entries.append(proof)
        elif e.get(2):
            n = wire.parse_fields(wire.last_bytes(e, 2) or b"")
            entries.append(
                NonExistenceProof(
                    wire.last_bytes(n, 1) or b"",
                    exist(wire.last_bytes(n, 2)),
                    exist(wire.last_bytes(n, 3)),
                )
            )
        else:
            raise MalformedProof("compressed entry is neither exist nor nonexist")
    return tuple(entries)


# --- verification ----------------------------------------------------------------------------


def verify_existence(
    proof: ExistenceProof, spec: ProofSpec, root: bytes, key: bytes, value: bytes
) -> None:
    """Raise unless ``proof`` shows ``key -> value`` under ``root`` in ``spec``'s format."""
    proof.check_against_spec(spec)
    if proof.key != key:
        raise KeyMismatch("the proof is for another key")
    if proof.value != value:
        raise ValueMismatch("the proof is for another value")
    computed = proof.calculate(spec)
    if not hmac.compare_digest(computed, bytes(root)):
        raise RootMismatch(
            "the proof leads to another root", computed=computed.hex(), expected=bytes(root).hex()
        )


def _compare_key(spec: ProofSpec, key: bytes) -> bytes:
    if not spec.prehash_key_before_comparison:
        return key
    return do_hash_or_noop(spec.leaf_spec.prehash_key, key)


def verify_non_existence(
    proof: NonExistenceProof, spec: ProofSpec, root: bytes, key: bytes
) -> None:
    """Raise unless ``proof`` shows ``key`` absent under ``root``.

    Checks: each given neighbour is a valid existence proof under ``root``;
    at least one is given; ``left.key < key < right.key`` (compared hashed
    when the spec says so); a missing left (right) neighbour's path is the
    left-most (right-most) one, two neighbours' paths are adjacent
    (:class:`NotNeighbours`).
    """
    for side in (proof.left, proof.right):
        if side is not None:
            verify_existence(side, spec, root, side.key, side.value)
    if proof.left is None and proof.right is None:
        raise NotNeighbours("both left and right proofs are missing")
    target = _compare_key(spec, key)
    if proof.right is not None and target >= _compare_key(spec, proof.right.key):
        raise NotNeighbours("key is not left of the right proof")
    if proof.left is not None and target <= _compare_key(spec, proof.left.key):
        raise NotNeighbours("key is not right of the left proof")
    ispec = spec.inner_spec
    if proof.left is None and proof.right is not None:
        if not is_left_most(ispec, proof.right.path):
            raise NotNeighbours("left proof missing: the right proof must be left-most")
    elif proof.right is None:
        if not is_right_most(ispec, proof.left.path):
            raise NotNeighbours("right proof missing: the left proof must be right-most")
    elif not is_left_neighbour(ispec, proof.left.path, proof.right.path):
        raise NotNeighbours("the left and right proofs are not neighbours")


def verify_membership(
    spec: ProofSpec, root: bytes, proof: CommitmentProof | bytes, key: bytes, value: bytes
) -> None:
    """ICS-23 ``VerifyMembership`` raising the first failed check."""
    decoded = proof if isinstance(proof, CommitmentProof) else CommitmentProof.decode(proof)
    verify_existence(decoded.existence_for(key), spec, root, key, value)


def verify_non_membership(
    spec: ProofSpec, root: bytes, proof: CommitmentProof | bytes, key: bytes
) -> None:
    """ICS-23 ``VerifyNonMembership`` raising the first failed check."""
    decoded = proof if isinstance(proof, CommitmentProof) else CommitmentProof.decode(proof)
    verify_non_existence(decoded.non_existence_for(key, spec), spec, root, key)


def verify_chained_membership(
    specs: Sequence[ProofSpec],
    root: bytes,
    proofs: Sequence[bytes],
    keys: Sequence[bytes],
    value: bytes,
) -> None:
    """ibc-go ``MerkleProof.VerifyMembership``: ``proofs[0]`` proves ``keys[-1] -> value`` in
    the innermost store, each next proof proves the previous root under the next key
    (``keys`` outermost first, as a ``MerklePath``), the last root is ``root``."""
    if not (len(specs) == len(proofs) == len(keys)) or not proofs:
        raise SpecMismatch("one spec and one key per proof layer is required")
    current = value
    for i, (spec, raw) in enumerate(zip(specs, proofs, strict=True)):
        key = keys[len(keys) - 1 - i]
        decoded = CommitmentProof.decode(raw)
        existence = decoded.existence_for(key)
        expected = existence.calculate(spec) if i < len(proofs) - 1 else bytes(root)
        verify_existence(existence, spec, expected, key, current)
        current = expected


def verify_chained_non_membership(
    specs: Sequence[ProofSpec], root: bytes, proofs: Sequence[bytes], keys: Sequence[bytes]
) -> None:
    """ibc-go ``VerifyNonMembership``: ``proofs[0]`` proves ``keys[-1]`` absent in the
    innermost store, the rest prove that store's root as in the chained membership."""
    if not (len(specs) == len(proofs) == len(keys)) or len(proofs) < 1:
        raise SpecMismatch("one spec and one key per proof layer is required")
    inner = CommitmentProof.decode(proofs[0]).non_existence_for(keys[-1], specs[0])
    subroot = inner.calculate()
    if len(proofs) == 1:
        verify_non_existence(inner, specs[0], root, keys[-1])
        return
    verify_non_existence(inner, specs[0], subroot, keys[-1])
    verify_chained_membership(specs[1:], root, proofs[1:], keys[:-1], subroot)


__all__ = [
    "CommitmentProof",
    "ExistenceProof",
    "NonExistenceProof",
    "verify_chained_membership",
    "verify_chained_non_membership",
    "verify_existence",
    "verify_membership",
    "verify_non_existence",
    "verify_non_membership",
]

"""ICS-23 proof specs and the checks that a proof's steps are in a spec's format.

Checking the format is what stops forged pre-images (an inner node passed
off as a leaf, a leaf with a made-up prefix): ``check_leaf`` and
``check_inner`` follow the Go reference (``cosmos/ics23`` ``ops.go``),
including the extra rules for the IAVL spec (the inner prefix is three
zig-zag varints height/size/version, height >= the layer) and the
Tendermint spec (inner prefix ``0x01``). The padding helpers decide left-
and right-most paths for non-existence proofs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from proofs.ics23.errors import SpecMismatch
from proofs.ics23.ops import HashOp, InnerOp, LeafOp, LengthOp

DEFAULT_MAX_DEPTH: Final = 128
"""The depth limit the Go reference applies when a spec sets none."""


@dataclass(frozen=True, slots=True)
class InnerSpec:
    child_order: tuple[int, ...] = ()
    child_size: int = 0
    min_prefix_length: int = 0
    max_prefix_length: int = 0
    empty_child: bytes = b""
    hash: int = HashOp.NO_HASH


@dataclass(frozen=True, slots=True)
class ProofSpec:
    leaf_spec: LeafOp = field(default_factory=LeafOp)
    inner_spec: InnerSpec = field(default_factory=InnerSpec)
    max_depth: int = 0
    min_depth: int = 0
    prehash_key_before_comparison: bool = False

    def same_shape(self, other: ProofSpec) -> bool:
        """The Go ``SpecEquals`` (over-declares equality on purpose: no prefix compared)."""
        a, b = self, other
        return (
            a.leaf_spec.hash == b.leaf_spec.hash
            and a.leaf_spec.prehash_key == b.leaf_spec.prehash_key
            and a.leaf_spec.prehash_value == b.leaf_spec.prehash_value
            and a.leaf_spec.length == b.leaf_spec.length
            and a.inner_spec.hash == b.inner_spec.hash
            and a.inner_spec.min_prefix_length == b.inner_spec.min_prefix_length
            and a.inner_spec.max_prefix_length == b.inner_spec.max_prefix_length
            and a.inner_spec.child_size == b.inner_spec.child_size
            and len(a.inner_spec.child_order) == len(b.inner_spec.child_order)
        )


IAVL_SPEC: Final = ProofSpec(
    LeafOp(HashOp.SHA256, HashOp.NO_HASH, HashOp.SHA256, LengthOp.VAR_PROTO, b"\x00"),
    InnerSpec((0, 1), 33, 4, 12, b"", HashOp.SHA256),
)
TENDERMINT_SPEC: Final = ProofSpec(
    LeafOp(HashOp.SHA256, HashOp.NO_HASH, HashOp.SHA256, LengthOp.VAR_PROTO, b"\x00"),
    InnerSpec((0, 1), 32, 1, 1, b"", HashOp.SHA256),
)
SMT_SPEC: Final = ProofSpec(
    LeafOp(HashOp.SHA256, HashOp.SHA256, HashOp.SHA256, LengthOp.NO_PREFIX, b"\x00"),
    InnerSpec((0, 1), 32, 1, 1, bytes(32), HashOp.SHA256),
    max_depth=256,
    prehash_key_before_comparison=True,
)


# --- format checks ---------------------------------------------------------------------


def _read_varint(data: bytes, pos: int, name: str) -> tuple[int, int]:
    """Go ``binary.ReadVarint``: a zig-zag signed varint."""
    result = shift = 0
    for i in range(10):
        if pos + i >= len(data):
            raise SpecMismatch(f"failed to read IAVL {name} varint")
        byte = data[pos + i]
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (result >> 1) ^ -(result & 1), pos + i + 1
        shift += 7
    raise SpecMismatch(f"IAVL {name} varint overflows")


def _validate_iavl(op: LeafOp | InnerOp, layer: int) -> None:
    prefix = op.prefix
    height, pos = _read_varint(prefix, 0, "height")
    if height < 0 or height < layer:
        raise SpecMismatch(
            f"IAVL height ({height}) must be non-negative and greater than or equal to the "
            f"layer number ({layer})"
        )
    size, pos = _read_varint(prefix, pos, "size")
    if size < 0:
        raise SpecMismatch("IAVL size must be non-negative")
    version, pos = _read_varint(prefix, pos, "version")
    if version < 0:
        raise SpecMismatch("IAVL version must be non-negative")
    remaining = len(prefix) - pos
    if layer == 0:
        if remaining != 0:
            raise SpecMismatch(f"expected remaining prefix length to be 0, got: {remaining}")
        return
    if remaining not in (1, 34):
        raise SpecMismatch(f"remainder of prefix must be of length 1 or 34, got: {remaining}")
    if op.hash != HashOp.SHA256:
        raise SpecMismatch("IAVL hash op must be SHA256")


def _validate_tendermint(op: InnerOp) -> None:
    if not op.prefix:
        raise SpecMismatch("inner op prefix must not be empty")
    if op.suffix and op.prefix != b"\x01":
        raise SpecMismatch("inner op prefix must be 0x01 when a suffix is present")
    if not op.prefix.startswith(b"\x01"):
        raise SpecMismatch("inner op prefix must begin with 0x01")


def check_leaf(op: LeafOp, spec: ProofSpec) -> None:
    """The leaf op is the spec's leaf op (hashes, length) with the spec's prefix first."""
    if spec.same_shape(IAVL_SPEC):
        _validate_iavl(op, 0)
    lspec = spec.leaf_spec
    for name in ("hash", "prehash_key", "prehash_value", "length"):
        if getattr(op, name) != getattr(lspec, name):
            raise SpecMismatch(f"leaf, unexpected {name}: {getattr(op, name)}")
    if not op.prefix.startswith(lspec.prefix):
        raise SpecMismatch(f"leaf prefix doesn't start with {lspec.prefix.hex()}")


def check_inner(op: InnerOp, spec: ProofSpec, layer: int) -> None:
    """The inner op at ``layer`` (1 = just above the leaf) fits the spec's inner format."""
    ispec = spec.inner_spec
    if op.hash != ispec.hash:
        raise SpecMismatch(f"inner, unexpected HashOp: {op.hash}")
    if spec.same_shape(IAVL_SPEC):
        _validate_iavl(op, layer)
    elif spec.same_shape(TENDERMINT_SPEC):
        _validate_tendermint(op)
    if op.prefix.startswith(spec.leaf_spec.prefix):
        raise SpecMismatch(
            f"inner prefix starts with the leaf prefix {spec.leaf_spec.prefix.hex()}"
        )
    if len(op.prefix) < ispec.min_prefix_length:
        raise SpecMismatch(f"innerOp prefix too short ({len(op.prefix)})")
    if ispec.child_size <= 0:
        raise SpecMismatch("spec.InnerSpec.ChildSize must be >= 1")
    if ispec.max_prefix_length >= ispec.min_prefix_length + ispec.child_size:
        raise SpecMismatch("spec max prefix length must be < min prefix length + child size")
    max_left = (len(ispec.child_order) - 1) * ispec.child_size
    if len(op.prefix) > ispec.max_prefix_length + max_left:
        raise SpecMismatch(f"innerOp prefix too long ({len(op.prefix)})")
    if len(op.suffix) % ispec.child_size != 0:
        raise SpecMismatch("InnerOp suffix malformed")


# --- padding: where in its parent a step sits -------------------------------------------------


def _position(order: tuple[int, ...], branch: int) -> int:
    if branch < 0 or branch >= len(order) or branch not in order:
        raise SpecMismatch(f"invalid branch {branch}")
    return order.index(branch)


def _padding(spec: InnerSpec, branch: int) -> tuple[int, int, int]:
    idx = _position(spec.child_order, branch)
    prefix = idx * spec.child_size
    suffix = (len(spec.child_order) - 1 - idx) * spec.child_size
    return prefix + spec.min_prefix_length, prefix + spec.max_prefix_length, suffix


def _has_padding(op: InnerOp, min_prefix: int, max_prefix: int, suffix: int) -> bool:
    return min_prefix <= len(op.prefix) <= max_prefix and len(op.suffix) == suffix


def order_from_padding(spec: InnerSpec, op: InnerOp) -> int | None:
    """Which child (branch) the step's child is, judged by its padding; ``None`` if none fits."""
    for branch in range(len(spec.child_order)):
        if _has_padding(op, *_padding(spec, branch)):
            return branch
    return None


def left_branches_are_empty(spec: InnerSpec, op: InnerOp) -> bool:
    """The siblings left of this step are all the spec's empty child (a placeholder node)."""
    idx = order_from_padding(spec, op)
    if not idx:  # None, or already the left-most branch
        return False
    actual = len(op.prefix) - idx * spec.child_size
    if actual < 0:
        return False
    for i in range(idx):
        start = actual + _position(spec.child_order, i) * spec.child_size
        if op.prefix[start : start + spec.child_size] != spec.empty_child:
            return False
    return True


def right_branches_are_empty(spec: InnerSpec, op: InnerOp) -> bool:
    """The siblings right of this step are all the spec's empty child."""
    idx = order_from_padding(spec, op)
    if idx is None:
        return False
    right = len(spec.child_order) - 1 - idx
    if right == 0 or len(op.suffix) != right * spec.child_size:
        return False
    for i in range(right):
        start = _position(spec.child_order, i) * spec.child_size
        if op.suffix[start : start + spec.child_size] != spec.empty_child:
            return False
    return True


def is_left_most(spec: InnerSpec, path: tuple[InnerOp, ...]) -> bool:
    """Every step is the left-most child (or sits right of empty placeholders only)."""
    low, high, suffix = _padding(spec, 0)
    return all(
        _has_padding(step, low, high, suffix) or left_branches_are_empty(spec, step)
        for step in path
    )


def is_right_most(spec: InnerSpec, path: tuple[InnerOp, ...]) -> bool:
    low, high, suffix = _padding(spec, len(spec.child_order) - 1)
    return all(
        _has_padding(step, low, high, suffix) or right_branches_are_empty(spec, step)
        for step in path
    )


def is_left_neighbour(
    spec: InnerSpec, left: tuple[InnerOp, ...], right: tuple[InnerOp, ...]
) -> bool:
    """``right`` is the path right next to ``left``: after their common top, ``left``'s
    step is one branch left of ``right``'s, and below it the paths hug the split."""
    i, j = len(left) - 1, len(right) - 1
    while (
        i >= 0
        and j >= 0
        and left[i].prefix == right[j].prefix
        and left[i].suffix == right[j].suffix
    ):
        i, j = i - 1, j - 1
    if i < 0 or j < 0:
        return False
    left_idx, right_idx = order_from_padding(spec, left[i]), order_from_padding(spec, right[j])
    if left_idx is None or right_idx is None or right_idx != left_idx + 1:
        return False
    return is_right_most(spec, left[:i]) and is_left_most(spec, right[:j])


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "IAVL_SPEC",
    "SMT_SPEC",
    "TENDERMINT_SPEC",
    "InnerSpec",
    "ProofSpec",
    "check_inner",
    "check_leaf",
    "is_left_most",
    "is_left_neighbour",
    "is_right_most",
    "left_branches_are_empty",
    "order_from_padding",
    "right_branches_are_empty",
]

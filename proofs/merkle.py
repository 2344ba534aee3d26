"""RFC 6962 (Certificate Transparency) Merkle trees over a chosen hash.

Pujiang headers commit to their transactions, events, validator sets and state
with these trees (``docs/pujiang-chain.md``); a packet is relayed only with an
inclusion proof against a verified header's root.

Definitions (RFC 6962 §2.1, RFC 9162 §2.1.1), with ``H`` the tree's hash:

* the empty tree's root is ``H("")``;
* a leaf is ``H(0x00 || data)``, an inner node ``H(0x01 || left || right)``.
  The two prefixes are the domain separation that stops a second-preimage
  forgery: the 64 bytes of two children, presented as leaf data, hash to
  another value than their parent, so an inner node never verifies as a leaf;
* a tree of ``n > 1`` leaves splits at ``k``, the largest power of two below
  ``n``: ``MTH(D[n]) = node(MTH(D[0:k]), MTH(D[k:n]))``.

Naming follows the project style: ``compute_*`` derives, ``verify_*`` raises
the typed error of the first failed check (``BadProof`` for a malformed or
non-linking proof, ``BadEncoding`` for a root or leaf hash of the wrong size,
``RootMismatch`` when a well-formed proof ends at another root), ``is_*``
returns a bool and never raises on any input. Builders (``merkle_root``,
``inclusion_proof``, ``consistency_proof``) are for trees the caller holds;
they raise ``InvalidInput`` for bad arguments and run in O(n) hashes.

SECURITY: an inclusion proof binds a leaf to ``root`` only together with
``tree_size``; take both from the same verified source (a header, a signed
tree head). With an untrusted size the leaf is still in the tree, but its
index is not bound to its position.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from core.errors import BadEncoding, BadProof, InvalidInput, RootMismatch, VerificationError
from proofs.hashing import SHA256, HashFunction

MAX_TREE_SIZE = 2**63
"""Largest tree size accepted: sizes are uint64 on the wire, and paths stay ≤ 63 hashes."""

MAX_PROOF_LENGTH = 64
"""Longest proof accepted; no valid proof for a tree of ≤ ``MAX_TREE_SIZE`` leaves is longer."""

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

BytesLike = bytes | bytearray | memoryview


# --- hashing -----------------------------------------------------------------


def leaf_hash(data: BytesLike, *, hash_fn: HashFunction = SHA256) -> bytes:
    """``H(0x00 || data)``: the hash of one leaf."""
    if not isinstance(data, BytesLike):
        raise InvalidInput(f"leaf data must be bytes, not {type(data).__name__}")
    return hash_fn(LEAF_PREFIX + bytes(data))


def node_hash(left: bytes, right: bytes, *, hash_fn: HashFunction = SHA256) -> bytes:
    """``H(0x01 || left || right)``: the hash of an inner node."""
    return hash_fn(NODE_PREFIX + left + right)


def empty_root(*, hash_fn: HashFunction = SHA256) -> bytes:
    """``H("")``: the root of the tree without leaves."""
    return hash_fn(b"")


# --- building (trees the caller holds) ---------------------------------------


def merkle_root(leaves: Sequence[BytesLike], *, hash_fn: HashFunction = SHA256) -> bytes:
    """MTH of the leaf data ``leaves`` (RFC 6962 §2.1)."""
    hashes = _leaf_hashes(leaves, hash_fn)
    if not hashes:
        return empty_root(hash_fn=hash_fn)
    return _subtree_root(hashes, 0, len(hashes), hash_fn)


def inclusion_proof(
    leaves: Sequence[BytesLike], index: int, *, hash_fn: HashFunction = SHA256
) -> list[bytes]:
    """The audit path of leaf ``index`` (RFC 6962 §2.1.1 ``PATH``), leaf side first."""
    hashes = _leaf_hashes(leaves, hash_fn)
    _require_int(index, "index")
    if not 0 <= index < len(hashes):
        raise InvalidInput(f"leaf index {index} outside a tree of {len(hashes)} leaves")
    lo, hi = 0, len(hashes)
    top_down: list[bytes] = []
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            top_down.append(_subtree_root(hashes, mid, hi, hash_fn))
            hi = mid
        else:
            top_down.append(_subtree_root(hashes, lo, mid, hash_fn))
            lo = mid
    return top_down[::-1]


def inclusion_proofs(
    leaves: Sequence[BytesLike], indices: Sequence[int], *, hash_fn: HashFunction = SHA256
) -> list[list[bytes]]:
    """The audit paths of several leaves of one tree, each exactly ``inclusion_proof``'s.

    Why not ``inclusion_proof`` in a loop: each call hashes the whole tree again
    (O(n) per leaf, O(n²) for a block's every event); here every subtree root is
    hashed once and shared by the paths that need it (O(n) for all of them).
    """
    hashes = _leaf_hashes(leaves, hash_fn)
    memo: dict[tuple[int, int], bytes] = {}

    def subtree(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return hashes[lo]
        root = memo.get((lo, hi))
        if root is None:
            mid = lo + _split(hi - lo)
            root = node_hash(subtree(lo, mid), subtree(mid, hi), hash_fn=hash_fn)
            memo[(lo, hi)] = root
        return root

    paths = []
    for index in indices:
        _require_int(index, "index")
        if not 0 <= index < len(hashes):
            raise InvalidInput(f"leaf index {index} outside a tree of {len(hashes)} leaves")
        lo, hi = 0, len(hashes)
        top_down: list[bytes] = []
        while hi - lo > 1:
            mid = lo + _split(hi - lo)
            if index < mid:
                top_down.append(subtree(mid, hi))
                hi = mid
            else:
                top_down.append(subtree(lo, mid))
                lo = mid
        paths.append(top_down[::-1])
    return paths


def consistency_proof(
    leaves: Sequence[BytesLike], old_size: int, *, hash_fn: HashFunction = SHA256
) -> list[bytes]:
    """Proof that the first ``old_size`` leaves are a prefix (RFC 6962 §2.1.2 ``PROOF``).

    Empty when ``old_size`` is 0 or the whole tree: nothing needs proving.
    """
    hashes = _leaf_hashes(leaves, hash_fn)
    _require_int(old_size, "old_size")
    if not 0 <= old_size <= len(hashes):
        raise InvalidInput(f"old size {old_size} outside 0..{len(hashes)}")
    if old_size in (0, len(hashes)):
        return []
    return _subproof(hashes, old_size, hash_fn)


def _subproof(hashes: list[bytes], m: int, hash_fn: HashFunction) -> list[bytes]:
    """``SUBPROOF(m, D[n], true)`` unrolled; ``m`` stays relative to ``lo``."""
    lo, hi = 0, len(hashes)
    complete_subtree = True  # the RFC's ``b``: the old tree is a complete subtree so far
    top_down: list[bytes] = []
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            top_down.append(_subtree_root(hashes, lo + k, hi, hash_fn))
            hi = lo + k
        else:
            top_down.append(_subtree_root(hashes, lo, lo + k, hash_fn))
            lo, m, complete_subtree = lo + k, m - k, False
    head = [] if complete_subtree else [_subtree_root(hashes, lo, hi, hash_fn)]
    return head + top_down[::-1]


def _leaf_hashes(leaves: Sequence[BytesLike], hash_fn: HashFunction) -> list[bytes]:
    if isinstance(leaves, BytesLike | str) or not isinstance(leaves, Sequence):
        raise InvalidInput("leaves must be a sequence of bytes")
    hashes = []
    for leaf in leaves:
        hashes.append(leaf_hash(leaf, hash_fn=hash_fn))
    return hashes


def _subtree_root(hashes: list[bytes], lo: int, hi: int, hash_fn: HashFunction) -> bytes:
    """MTH of the leaf hashes ``hashes[lo:hi]`` (non-empty), bottom-up in O(hi - lo).

    Pairing neighbours and carrying an odd last node up unchanged gives the same
    root as the RFC's split at the largest power of two.
    """
    level = hashes[lo:hi]
    while len(level) > 1:
        paired = [
            node_hash(level[i], level[i + 1], hash_fn=hash_fn) for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- inclusion verification (RFC 9162 §2.1.3.2) ------------------------------


def compute_root_from_inclusion(
    leaf_hash_: bytes,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    *,
    hash_fn: HashFunction = SHA256,
) -> bytes:
    """The root an inclusion proof leads to from the leaf hash ``leaf_hash_``.

    Checks, in order (each ``BadProof``): sizes are integers, ``0 <= index <
    tree_size <= MAX_TREE_SIZE``, the proof is a sequence of at most
    ``MAX_PROOF_LENGTH`` hashes of the digest size, and its length is the path
    length for ``(index, tree_size)``. ``BadEncoding`` if the leaf hash has the
    wrong size.
    """
    _check_index_and_size(index, tree_size)
    path = _check_proof(proof, hash_fn)
    if len(path) != _inclusion_length(index, tree_size):
        raise BadProof(
            f"inclusion proof has {len(path)} hashes, a tree of {tree_size} needs "
            f"{_inclusion_length(index, tree_size)} for leaf {index}"
        )
    start = _check_digest(leaf_hash_, "leaf hash", hash_fn)
    return _walk_inclusion(start, index, tree_size, path, hash_fn)


def verify_inclusion(
    leaf: BytesLike,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
    *,
    hash_fn: HashFunction = SHA256,
    prehashed: bool = False,
) -> None:
    """Raise unless ``leaf`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    ``leaf`` is the leaf data, hashed here with the 0x00 prefix; with
    ``prehashed=True`` it is already the RFC 6962 leaf hash.

    CONTRACT: with ``prehashed=True`` the caller guarantees the hash came from
    ``leaf_hash`` (an inner node passed as a "leaf hash" would verify at a
    smaller claimed ``tree_size``). Prefer passing the data.

    Checks in order: ``BadEncoding`` if ``root`` (or a prehashed leaf) is not
    one digest long or ``leaf`` is not bytes; then those of
    :func:`compute_root_from_inclusion` (``BadProof``); ``RootMismatch`` if the
    proof ends at another root.
    """
    expected = _check_digest(root, "root", hash_fn)
    if prehashed:
        start = _check_digest(leaf, "leaf hash", hash_fn)
    else:
        if not isinstance(leaf, BytesLike):
            raise BadEncoding(f"leaf data must be bytes, not {type(leaf).__name__}")
        _check_index_and_size(index, tree_size)  # cheap checks before hashing the data
        start = leaf_hash(leaf, hash_fn=hash_fn)
    computed = compute_root_from_inclusion(start, index, tree_size, proof, hash_fn=hash_fn)
    if not hmac.compare_digest(computed, expected):
        raise RootMismatch(
            f"inclusion proof for leaf {index} of {tree_size} ends at another root",
            computed=computed.hex(),
            expected=expected.hex(),
        )


def is_valid_inclusion(
    leaf: BytesLike,
    index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
    *,
    hash_fn: HashFunction = SHA256,
    prehashed: bool = False,
) -> bool:
    """:func:`verify_inclusion` as a bool; False for any malformed input."""
    try:
        verify_inclusion(leaf, index, tree_size, proof, root, hash_fn=hash_fn, prehashed=prehashed)
    except VerificationError:
        return False
    return True


def _walk_inclusion(
    start: bytes, index: int, tree_size: int, path: list[bytes], hash_fn: HashFunction
) -> bytes:
    """RFC 9162 §2.1.3.2 steps 2-5, ``fn``/``sn`` being the node and last-node indices."""
    fn, sn = index, tree_size - 1
    r = start
    for p in path:
        if sn == 0:
            raise BadProof("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r, hash_fn=hash_fn)
            while not fn & 1 and fn != 0:  # climb past levels where the node has no sibling
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p, hash_fn=hash_fn)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise BadProof("inclusion proof is shorter than the path to the root")
    return r


def _inclusion_length(index: int, tree_size: int) -> int:
    """Path length: the levels below the split from the right border, plus border nodes."""
    inner = (index ^ (tree_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


# --- consistency verification (RFC 9162 §2.1.4.2) ----------------------------


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    *,
    hash_fn: HashFunction = SHA256,
) -> None:
    """Raise unless the tree ``(new_size, new_root)`` extends ``(old_size, old_root)``.

    Checks in order: ``BadProof`` if a size is not an integer or not ``0 <=
    old_size <= new_size <= MAX_TREE_SIZE``; ``BadEncoding`` if a root is not
    one digest long; ``BadProof`` if the proof is not a sequence of at most
    ``MAX_PROOF_LENGTH`` digests, is not empty when ``old_size`` is 0 or equals
    ``new_size``, or has another length than the sizes require;
    ``RootMismatch`` if ``old_size`` is 0 and ``old_root`` is not the empty
    root, if equal sizes have different roots, or if the proof does not lead
    to both roots. The loop is RFC 9162 §2.1.4.2.
    """
    _check_sizes(old_size, new_size)
    first = _check_digest(old_root, "old root", hash_fn)
    second = _check_digest(new_root, "new root", hash_fn)
    path = _check_proof(proof, hash_fn)
    if old_size == 0 or old_size == new_size:
        _verify_trivial_consistency(old_size, new_size, first, second, path, hash_fn)
        return
    if len(path) != _consistency_length(old_size, new_size):
        raise BadProof(
            f"consistency proof has {len(path)} hashes, {old_size} -> {new_size} needs "
            f"{_consistency_length(old_size, new_size)}"
        )
    fr, sr = _walk_consistency(old_size, new_size, first, path, hash_fn)
    if not hmac.compare_digest(fr, first):
        raise RootMismatch(f"consistency proof does not lead to the old root of {old_size}")
    if not hmac.compare_digest(sr, second):
        raise RootMismatch(f"consistency proof does not lead to the new root of {new_size}")


def is_valid_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
    *,
    hash_fn: HashFunction = SHA256,
) -> bool:
    """:func:`verify_consistency` as a bool; False for any malformed input."""
    try:
        verify_consistency(old_size, new_size, old_root, new_root, proof, hash_fn=hash_fn)
    except VerificationError:
        return False
    return True


def _verify_trivial_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    path: list[bytes],
    hash_fn: HashFunction,
) -> None:
    """Sizes that need no proof: from the empty tree, or to the same size."""
    if path:
        raise BadProof(f"consistency {old_size} -> {new_size} needs an empty proof")
    if old_size == 0 and not hmac.compare_digest(old_root, empty_root(hash_fn=hash_fn)):
        raise RootMismatch("the old root of an empty tree must be the empty root")
    if old_size == new_size and not hmac.compare_digest(old_root, new_root):
        raise RootMismatch(f"two trees of size {new_size} have different roots")


def _walk_consistency(
    old_size: int, new_size: int, old_root: bytes, path: list[bytes], hash_fn: HashFunction
) -> tuple[bytes, bytes]:
    """RFC 9162 §2.1.4.2 steps 2-6: the old and new roots the proof leads to."""
    if old_size & (old_size - 1) == 0:  # a complete subtree: its root is the seed
        path = [old_root, *path]
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise BadProof("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr, hash_fn=hash_fn)
            sr = node_hash(c, sr, hash_fn=hash_fn)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c, hash_fn=hash_fn)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise BadProof("consistency proof is shorter than the path to the root")
    return fr, sr


def _consistency_length(old_size: int, new_size: int) -> int:
    """Proof length for ``0 < old_size < new_size``: the old tree's last node's
    path within the new tree, counted from the largest complete subtree ending
    at ``old_size``, plus that subtree's root unless it is the whole old tree."""
    shift = (old_size & -old_size).bit_length() - 1
    seed = 0 if old_size == 1 << shift else 1
    return seed + _inclusion_length((old_size - 1) >> shift, ((new_size - 1) >> shift) + 1)


# --- input checks --------------------------------------------------------------


def _require_int(value: object, name: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{name} must be an integer, not {type(value).__name__}")


def _check_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise BadProof(f"{name} must be an integer, not {type(value).__name__}")
    return value


def _check_index_and_size(index: int, tree_size: int) -> None:
    _check_int(index, "leaf index")
    _check_int(tree_size, "tree size")
    if not 0 < tree_size <= MAX_TREE_SIZE:
        raise BadProof(f"tree size {tree_size} outside 1..2**63")
    if not 0 <= index < tree_size:
        raise BadProof(f"leaf index {index} outside a tree of {tree_size} leaves")


def _check_sizes(old_size: int, new_size: int) -> None:
    _check_int(old_size, "old size")
    _check_int(new_size, "new size")
    if not 0 <= new_size <= MAX_TREE_SIZE:
        raise BadProof(f"new size {new_size} outside 0..2**63")
    if not 0 <= old_size <= new_size:
        raise BadProof(f"old size {old_size} outside 0..{new_size} (trees only grow)")


def _check_digest(value: object, name: str, hash_fn: HashFunction) -> bytes:
    if not isinstance(value, BytesLike) or len(digest := bytes(value)) != hash_fn.digest_size:
        raise BadEncoding(f"{name} must be {hash_fn.digest_size} bytes")
    return digest


def _check_proof(proof: Sequence[bytes], hash_fn: HashFunction) -> list[bytes]:
    """The proof as a list of digests; ``BadProof`` if it is anything else."""
    if isinstance(proof, BytesLike | str) or not isinstance(proof, Sequence):
        raise BadProof("a proof must be a sequence of hashes")
    if len(proof) > MAX_PROOF_LENGTH:
        raise BadProof(f"proof of {len(proof)} hashes exceeds {MAX_PROOF_LENGTH}")
    path = []
    for i, item in enumerate(proof):
        if not isinstance(item, BytesLike) or len(digest := bytes(item)) != hash_fn.digest_size:
            raise BadProof(f"proof hash {i} is not {hash_fn.digest_size} bytes")
        path.append(digest)
    return path

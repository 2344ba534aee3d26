"""proofs.merkle: RFC 6962 known answers and one-broken-field malleation tables.

The expected values are Google's Certificate Transparency test data as kept in
transparency-dev/merkle (Apache-2.0); none were computed by this project:

* ``testonly/constants.go``: the eight leaf inputs, ``RootHashes()`` (roots of
  the trees of size 0..8) and ``NodeHashes()`` (every complete subtree of the
  8-leaf tree, by level and index).
* ``rfc6962/rfc6962_test.go``: empty root, empty-leaf hash, the "L123456" leaf
  and the ("N123", "N456") node.
* ``proof/verify_test.go``: the ``inclusionProofs`` and ``consistencyProofs``
  tables (leaf numbers there are 1-based), the ``corruptInclusionProof`` /
  ``corruptConsistencyProof`` probes, ``sha256SomeHash`` and the
  ``TestVerifyInclusion`` / ``TestVerifyConsistency`` edge cases.
* ``proof/proof_test.go``: ``TestInclusion`` / ``TestConsistency`` list proofs
  as node ids (level, index) of the 8-leaf tree; here each id is looked up in
  ``NodeHashes()`` (``rehash`` ranges become ``node_hash(i, j)``).

Deviations from upstream, on purpose: upstream accepts any root bytes for a
size-0 tree and "don't care" roots of any length; here roots must be one
digest long (``BadEncoding``) and the size-0 root must be the empty root.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.errors import BadEncoding, BadProof, InvalidInput, RootMismatch, VerificationError
from proofs.hashing import KECCAK256, SHA256, SM3, HashFunction
from proofs.merkle import (
    MAX_PROOF_LENGTH,
    MAX_TREE_SIZE,
    compute_root_from_inclusion,
    consistency_proof,
    empty_root,
    inclusion_proof,
    inclusion_proofs,
    is_valid_consistency,
    is_valid_inclusion,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

h = bytes.fromhex

LEAVES = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]

ROOTS = [  # by tree size 0..8
    h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    h("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    h("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    h("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    h("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]

NODE_HASHES = [  # [level][index] of the 8-leaf tree
    [
        h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
        h("0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7"),
        h("07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7"),
        h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        h("4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658"),
        h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
        h("46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ],
    [
        h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
        h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
        h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ],
    [
        h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ],
    [h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328")],
]

SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")

# proof/verify_test.go inclusionProofs: (1-based leaf, tree size, path)
INCLUSION_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]

# proof/verify_test.go consistencyProofs: (size1, size2, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            h("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


def n(level: int, index: int) -> bytes:
    """Node id (level, index) of proof/proof_test.go, as its NodeHashes() hash."""
    return NODE_HASHES[level][index]


L_REHASHED = node_hash(n(1, 2), n(0, 6))  # proof_test.go "l=hash(i,j)"

# proof/proof_test.go TestInclusion rows within the 8-leaf tree: (size, index, path)
INCLUSION_NODE_IDS = [
    (1, 0, []),
    (2, 0, [n(0, 1)]),
    (2, 1, [n(0, 0)]),
    (3, 1, [n(0, 0), n(0, 2)]),
    (7, 0, [n(0, 1), n(1, 1), L_REHASHED]),
    (7, 1, [n(0, 0), n(1, 1), L_REHASHED]),
    (7, 2, [n(0, 3), n(1, 0), L_REHASHED]),
    (7, 3, [n(0, 2), n(1, 0), L_REHASHED]),
    (7, 4, [n(0, 5), n(0, 6), n(2, 0)]),
    (7, 5, [n(0, 4), n(0, 6), n(2, 0)]),
    (7, 6, [n(1, 2), n(2, 0)]),
    (4, 2, [n(0, 3), n(1, 0)]),
    (5, 3, [n(0, 2), n(1, 0), n(0, 4)]),
    (6, 3, [n(0, 2), n(1, 0), n(1, 2)]),
    (6, 4, [n(0, 5), n(2, 0)]),
]

# proof/proof_test.go TestConsistency rows within the 8-leaf tree: (size1, size2, proof)
CONSISTENCY_NODE_IDS = [
    (1, 2, [n(0, 1)]),
    (1, 4, [n(0, 1), n(1, 1)]),
    (1, 6, [n(0, 1), n(1, 1), n(1, 2)]),
    (2, 3, [n(0, 2)]),
    (2, 8, [n(1, 1), n(2, 1)]),
    (3, 7, [n(0, 2), n(0, 3), n(1, 0), L_REHASHED]),
    (4, 7, [L_REHASHED]),
    (5, 7, [n(0, 4), n(0, 5), n(0, 6), n(2, 0)]),
    (6, 7, [n(1, 2), n(0, 6), n(2, 0)]),
    (7, 8, [n(0, 6), n(0, 7), n(1, 2), n(2, 0)]),
    *[(size, size, []) for size in (1, 2, 3, 4, 5, 7, 8)],
    (2, 4, [n(1, 1)]),
    (3, 5, [n(0, 2), n(0, 3), n(1, 0), n(0, 4)]),
    (3, 6, [n(0, 2), n(0, 3), n(1, 0), n(1, 2)]),
    (4, 6, [n(1, 2)]),
    (1, 7, [n(0, 1), n(1, 1), L_REHASHED]),
]


def flip(value: bytes, bit: int) -> bytes:
    """``value`` with bit ``bit`` of its first byte flipped (upstream's "modified proof")."""
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# --- hashing primitives --------------------------------------------------------


def test_empty_root_is_hash_of_empty_string() -> None:
    assert empty_root() == ROOTS[0]
    assert merkle_root([]) == ROOTS[0]


def test_empty_leaf_hash_differs_from_empty_root() -> None:
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"") != empty_root()


def test_leaf_and_node_hash_match_rfc6962_hasher_vectors() -> None:
    assert leaf_hash(b"L123456") == h(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456") == h(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


def test_node_hashes_of_8_leaf_tree_match_constants() -> None:
    assert [leaf_hash(leaf) for leaf in LEAVES] == NODE_HASHES[0]
    for level in range(1, 4):
        below = NODE_HASHES[level - 1]
        pairs = [node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)]
        assert pairs == NODE_HASHES[level]


@pytest.mark.parametrize("size", range(9))
def test_merkle_root_matches_known_root_for_each_size(size: int) -> None:
    assert merkle_root(LEAVES[:size]) == ROOTS[size]


def test_merkle_root_accepts_bytes_like_leaves() -> None:
    assert merkle_root([bytearray(x) for x in LEAVES]) == ROOTS[8]
    assert merkle_root(tuple(memoryview(x) for x in LEAVES[:5])) == ROOTS[5]


@pytest.mark.parametrize("hash_fn", [KECCAK256, SM3], ids=lambda f: f.name)
def test_tree_uses_the_chosen_hash(hash_fn: HashFunction) -> None:
    assert empty_root(hash_fn=hash_fn) == hash_fn(b"")
    assert leaf_hash(b"x", hash_fn=hash_fn) == hash_fn(b"\x00x")
    a, b = leaf_hash(b"a", hash_fn=hash_fn), leaf_hash(b"b", hash_fn=hash_fn)
    assert merkle_root([b"a", b"b"], hash_fn=hash_fn) == hash_fn(b"\x01" + a + b)
    assert merkle_root(LEAVES, hash_fn=hash_fn) != ROOTS[8]


# --- building proofs -------------------------------------------------------------


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION_VECTORS)
def test_inclusion_proof_matches_known_path(leaf: int, size: int, path: list[bytes]) -> None:
    assert inclusion_proof(LEAVES[:size], leaf - 1) == path


@pytest.mark.parametrize(("size", "index", "path"), INCLUSION_NODE_IDS)
def test_inclusion_proof_matches_node_id_table(size: int, index: int, path: list[bytes]) -> None:
    assert inclusion_proof(LEAVES[:size], index) == path


@pytest.mark.parametrize(("size", "index"), [(0, 0), (0, 1), (1, 2), (0, 3), (7, 8), (7, -1)])
def test_inclusion_proof_index_outside_tree_raises_invalid_input(size: int, index: int) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof(LEAVES[:size], index)


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_consistency_proof_matches_known_proof(size1: int, size2: int, proof: list[bytes]) -> None:
    assert consistency_proof(LEAVES[:size2], size1) == proof


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_NODE_IDS)
def test_consistency_proof_matches_node_id_table(
    size1: int, size2: int, proof: list[bytes]
) -> None:
    assert consistency_proof(LEAVES[:size2], size1) == proof


@pytest.mark.parametrize(("size1", "size2"), [(5, 0), (9, 8), (-1, 3)])
def test_consistency_proof_old_size_outside_tree_raises_invalid_input(
    size1: int, size2: int
) -> None:
    with pytest.raises(InvalidInput):
        consistency_proof(LEAVES[:size2], size1)


def test_consistency_proof_from_empty_tree_is_empty() -> None:
    assert consistency_proof(LEAVES, 0) == []


@pytest.mark.parametrize(
    "leaves",
    [b"abc", "abc", [b"a", "b"], [b"a", 1], None],
    ids=["bytes", "str", "str-leaf", "int-leaf", "none"],
)
def test_builders_reject_non_bytes_leaves(leaves: object) -> None:
    for build in (
        lambda: merkle_root(leaves),  # type: ignore[arg-type]
        lambda: inclusion_proof(leaves, 0),  # type: ignore[arg-type]
        lambda: consistency_proof(leaves, 1),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInput):
            build()


@pytest.mark.parametrize("index", [True, 1.0, "1"])
def test_builders_reject_non_integer_positions(index: object) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proof(LEAVES, index)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        consistency_proof(LEAVES, index)  # type: ignore[arg-type]


def counting(hash_fn: HashFunction) -> tuple[HashFunction, list[int]]:
    calls = [0]

    def counted(data: bytes) -> bytes:
        calls[0] += 1
        return hash_fn(data)

    return HashFunction("counted", hash_fn.digest_size, counted), calls


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 1000, 1025])
def test_builders_use_linear_number_of_hashes(size: int) -> None:
    counted, calls = counting(SHA256)
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    builders: list[Callable[[], object]] = [
        lambda: merkle_root(leaves, hash_fn=counted),
        lambda: inclusion_proof(leaves, size // 3, hash_fn=counted),
        lambda: inclusion_proof(leaves, size - 1, hash_fn=counted),
        lambda: consistency_proof(leaves, max(1, size // 3), hash_fn=counted),
        lambda: consistency_proof(leaves, max(1, size - 1), hash_fn=counted),
    ]
    for build in builders:
        calls[0] = 0
        build()
        # n leaf hashes plus fewer than n inner nodes: a tree has n - 1 of them.
        assert calls[0] <= 2 * size


@pytest.mark.parametrize(("size", "index", "path"), INCLUSION_NODE_IDS)
def test_inclusion_proofs_matches_node_id_table(size: int, index: int, path: list[bytes]) -> None:
    assert inclusion_proofs(LEAVES[:size], [index]) == [path]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 33, 100])
def test_inclusion_proofs_equal_one_inclusion_proof_per_leaf(size: int) -> None:
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    indices = [*range(size - 1, -1, -1), 0]  # any order, repeats allowed
    assert inclusion_proofs(leaves, indices, hash_fn=KECCAK256) == [
        inclusion_proof(leaves, i, hash_fn=KECCAK256) for i in indices
    ]


@pytest.mark.parametrize(("size", "index"), [(0, 0), (1, 2), (7, 8), (7, -1)])
def test_inclusion_proofs_index_outside_tree_raises_invalid_input(size: int, index: int) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proofs(LEAVES[:size], [index])


@pytest.mark.parametrize("index", [True, 1.0, "1"])
def test_inclusion_proofs_reject_non_integer_positions(index: object) -> None:
    with pytest.raises(InvalidInput):
        inclusion_proofs(LEAVES, [index])  # type: ignore[list-item]


@pytest.mark.parametrize("size", [1, 2, 3, 255, 256, 1000, 1025])
def test_inclusion_proofs_of_every_leaf_use_linear_number_of_hashes(size: int) -> None:
    counted, calls = counting(SHA256)
    leaves = [i.to_bytes(4, "big") for i in range(size)]
    inclusion_proofs(leaves, range(size), hash_fn=counted)
    assert calls[0] <= 2 * size


# --- inclusion verification ------------------------------------------------------


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION_VECTORS)
def test_known_inclusion_proof_verifies(leaf: int, size: int, path: list[bytes]) -> None:
    data = LEAVES[leaf - 1]
    verify_inclusion(data, leaf - 1, size, path, ROOTS[size])
    verify_inclusion(leaf_hash(data), leaf - 1, size, path, ROOTS[size], prehashed=True)
    assert compute_root_from_inclusion(leaf_hash(data), leaf - 1, size, path) == ROOTS[size]
    assert is_valid_inclusion(data, leaf - 1, size, path, ROOTS[size])


def corrupt_inclusion(
    index: int, size: int, path: list[bytes], root: bytes, data: bytes
) -> list[tuple[str, tuple[object, ...], tuple[type[VerificationError], ...]]]:
    """verify_test.go corruptInclusionProof, each probe with the errors it may raise.

    A probe moving the leaf (index or size) may be caught by the path length
    (BadProof) or only at the root (RootMismatch), depending on the shape.
    """
    moved = (BadProof, RootMismatch)
    probes = [
        ("leafIndex - 1", (data, index - 1, size, path, root), moved),
        ("leafIndex + 1", (data, index + 1, size, path, root), moved),
        ("leafIndex ^ 2", (data, index ^ 2, size, path, root), moved),
        ("treeSize * 2", (data, index, size * 2, path, root), moved),
        ("treeSize / 2", (data, index, size // 2, path, root), moved),
        ("wrong leaf", (b"WrongLeaf", index, size, path, root), (RootMismatch,)),
        ("empty root", (data, index, size, path, ROOTS[0]), (RootMismatch,)),
        ("random root", (data, index, size, path, SOME_HASH), (RootMismatch,)),
        ("trailing garbage", (data, index, size, [*path, b""], root), (BadProof,)),
        ("trailing root", (data, index, size, [*path, root], root), (BadProof,)),
        ("preceding garbage", (data, index, size, [b"", *path], root), (BadProof,)),
        ("preceding root", (data, index, size, [root, *path], root), (BadProof,)),
    ]
    for i in range(len(path)):
        bent = [*path[:i], flip(path[i], 3), *path[i + 1 :]]
        probes.append(
            (f"modified proof[{i}] bit 3", (data, index, size, bent, root), (RootMismatch,))
        )
    if path:
        probes.append(("removed component", (data, index, size, path[:-1], root), (BadProof,)))
    if len(path) > 1:
        inserted = [path[0], SOME_HASH, *path[1:]]
        probes.append(("inserted component", (data, index, size, inserted, root), (BadProof,)))
    return probes


INCLUSION_PROBES = [
    pytest.param(args, errors, id=f"{leaf}/{size}: {desc}")
    for leaf, size, path in INCLUSION_VECTORS[1:]  # upstream skips the 1-leaf tree here
    for desc, args, errors in corrupt_inclusion(leaf - 1, size, path, ROOTS[size], LEAVES[leaf - 1])
]


@pytest.mark.parametrize(("args", "errors"), INCLUSION_PROBES)
def test_corrupted_inclusion_proof_is_rejected(
    args: tuple[object, ...], errors: tuple[type[VerificationError], ...]
) -> None:
    with pytest.raises(errors):
        verify_inclusion(*args)  # type: ignore[arg-type]
    assert not is_valid_inclusion(*args)  # type: ignore[arg-type]


def test_single_entry_tree_root_is_its_leaf_hash() -> None:
    """verify_test.go TestVerifyInclusionSingleEntry."""
    digest = leaf_hash(b"data")
    verify_inclusion(digest, 0, 1, [], digest, prehashed=True)
    verify_inclusion(b"data", 0, 1, [], digest)
    with pytest.raises(BadEncoding):
        verify_inclusion(b"", 0, 1, [], digest, prehashed=True)
    with pytest.raises(BadEncoding):
        verify_inclusion(digest, 0, 1, [], b"", prehashed=True)
    with pytest.raises(BadEncoding):
        verify_inclusion(b"", 0, 1, [], b"", prehashed=True)


@pytest.mark.parametrize(
    ("index", "size", "error"),
    [(0, 0, BadProof), (0, 1, RootMismatch), (1, 0, BadProof), (2, 1, BadProof)],
)
def test_empty_proof_edge_cases_are_rejected(
    index: int, size: int, error: type[VerificationError]
) -> None:
    """verify_test.go TestVerifyInclusion probes, with the error each must raise."""
    with pytest.raises(BadEncoding):
        verify_inclusion(SOME_HASH, index, size, [], b"", prehashed=True)
    with pytest.raises(BadEncoding):
        verify_inclusion(b"", index, size, [], ROOTS[0], prehashed=True)
    with pytest.raises(error):
        verify_inclusion(SOME_HASH, index, size, [], ROOTS[0], prehashed=True)


def test_inner_node_presented_as_leaf_data_is_rejected() -> None:
    """Second preimage: leaves 0-1's parent, offered as the leaf data ``left || right``.

    In the 8-leaf tree, treat level 1 as if it were the leaves: the parent of
    leaves 0 and 1 is "leaf 0" of a 4-leaf tree with the same root, and its
    path is the top two hashes of leaf 0's real path. Only the 0x00/0x01
    prefixes stop it.
    """
    left, right = n(0, 0), n(0, 1)
    forged_data = left + right
    upper_path = inclusion_proof(LEAVES, 0)[1:]
    with pytest.raises(RootMismatch):
        verify_inclusion(forged_data, 0, 4, upper_path, ROOTS[8])
    assert not is_valid_inclusion(forged_data, 0, 4, upper_path, ROOTS[8])
    assert leaf_hash(forged_data) != node_hash(left, right)
    # The same attack with the node hash passed as a *leaf hash* is why
    # prehashed=True carries a CONTRACT: the prefixes cannot help there.
    assert is_valid_inclusion(node_hash(left, right), 0, 4, upper_path, ROOTS[8], prehashed=True)


def test_tree_size_is_not_bound_by_the_root() -> None:
    """RFC 6962 roots do not commit to the size: leaf 0 of a 3-leaf tree also
    "verifies" at size 4, because both paths have the same shape. Callers
    must take tree_size from the same trusted source as the root."""
    path = inclusion_proof(LEAVES[:3], 0)
    assert is_valid_inclusion(LEAVES[0], 0, 3, path, ROOTS[3])
    assert is_valid_inclusion(LEAVES[0], 0, 4, path, ROOTS[3])
    assert not is_valid_inclusion(LEAVES[0], 0, 5, path, ROOTS[3])


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param((b"x", True, 1, [], ROOTS[1]), BadProof, id="bool index"),
        pytest.param((b"x", 0, 1.0, [], ROOTS[1]), BadProof, id="float size"),
        pytest.param((b"x", 0, MAX_TREE_SIZE + 1, [], ROOTS[1]), BadProof, id="size > 2**63"),
        pytest.param((b"x", -1, 1, [], ROOTS[1]), BadProof, id="negative index"),
        pytest.param((b"x", 0, 1, b"", ROOTS[1]), BadProof, id="proof is bytes"),
        pytest.param((b"x", 0, 1, None, ROOTS[1]), BadProof, id="proof is None"),
        pytest.param((b"x", 0, 2, [ROOTS[1][:31]], ROOTS[1]), BadProof, id="short proof hash"),
        pytest.param((b"x", 0, 2, ["ab" * 32], ROOTS[1]), BadProof, id="str proof hash"),
        pytest.param((b"x", 0, 2, [SOME_HASH] * 65, ROOTS[1]), BadProof, id="65 hashes"),
        pytest.param(("x", 0, 1, [], ROOTS[1]), BadEncoding, id="str leaf"),
        pytest.param((b"x", 0, 1, [], ROOTS[1].hex()), BadEncoding, id="hex root"),
        pytest.param((b"x", 0, 1, [], ROOTS[1] + b"\x00"), BadEncoding, id="long root"),
    ],
)
def test_malformed_inclusion_input_raises_typed_error(
    args: tuple[object, ...], error: type[VerificationError]
) -> None:
    with pytest.raises(error):
        verify_inclusion(*args)  # type: ignore[arg-type]
    assert not is_valid_inclusion(*args)  # type: ignore[arg-type]


def test_largest_tree_is_handled_without_building_it() -> None:
    index = MAX_TREE_SIZE - 1  # rightmost leaf: 63 left siblings
    path = [SOME_HASH] * 63
    with pytest.raises(RootMismatch):
        verify_inclusion(b"x", index, MAX_TREE_SIZE, path, ROOTS[1])
    with pytest.raises(BadProof):
        verify_inclusion(b"x", index, MAX_TREE_SIZE, path[:-1], ROOTS[1])
    assert MAX_PROOF_LENGTH == 64


def test_inclusion_proof_under_another_hash_fails() -> None:
    path = inclusion_proof(LEAVES, 5)
    assert is_valid_inclusion(LEAVES[5], 5, 8, path, ROOTS[8])
    assert not is_valid_inclusion(LEAVES[5], 5, 8, path, ROOTS[8], hash_fn=SM3)
    sm3_path = inclusion_proof(LEAVES, 5, hash_fn=SM3)
    sm3_root = merkle_root(LEAVES, hash_fn=SM3)
    verify_inclusion(LEAVES[5], 5, 8, sm3_path, sm3_root, hash_fn=SM3)


# --- consistency verification ------------------------------------------------------


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
def test_known_consistency_proof_verifies(size1: int, size2: int, proof: list[bytes]) -> None:
    verify_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)
    assert is_valid_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)


def corrupt_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: list[bytes]
) -> list[tuple[str, tuple[object, ...], tuple[type[VerificationError], ...]]]:
    """verify_test.go corruptConsistencyProof, each probe with the errors it may raise."""
    moved = (BadProof, RootMismatch)
    probes = [
        ("size1 - 1", (size1 - 1, size2, root1, root2, proof), moved),
        ("size1 + 1", (size1 + 1, size2, root1, root2, proof), moved),
        ("size1 ^ 2", (size1 ^ 2, size2, root1, root2, proof), moved),
        ("size2 * 2", (size1, size2 * 2, root1, root2, proof), moved),
        ("size2 / 2", (size1, size2 // 2, root1, root2, proof), moved),
        ("wrong root1", (size1, size2, b"WrongRoot", root2, proof), (BadEncoding,)),
        ("wrong root2", (size1, size2, root1, b"WrongRoot", proof), (BadEncoding,)),
        ("swapped roots", (size1, size2, root2, root1, proof), (RootMismatch,)),
        ("empty proof", (size1, size2, root1, root2, []), (BadProof,)),
        ("trailing garbage", (size1, size2, root1, root2, [*proof, b""]), (BadProof,)),
        ("trailing root1", (size1, size2, root1, root2, [*proof, root1]), (BadProof,)),
        ("trailing root2", (size1, size2, root1, root2, [*proof, root2]), (BadProof,)),
        ("preceding garbage", (size1, size2, root1, root2, [b"", *proof]), (BadProof,)),
        ("preceding root1", (size1, size2, root1, root2, [root1, *proof]), (BadProof,)),
        ("preceding root2", (size1, size2, root1, root2, [root2, *proof]), (BadProof,)),
        ("preceding proof[0]", (size1, size2, root1, root2, [proof[0], *proof]), (BadProof,)),
        ("truncated proof", (size1, size2, root1, root2, proof[:-1]), (BadProof,)),
    ]
    for i in range(len(proof)):
        bent = [*proof[:i], flip(proof[i], 4), *proof[i + 1 :]]
        probes.append(
            (f"modified proof[{i}] bit 4", (size1, size2, root1, root2, bent), (RootMismatch,))
        )
    return probes


CONSISTENCY_PROBES = [
    pytest.param(args, errors, id=f"{size1}-{size2}: {desc}")
    for size1, size2, proof in CONSISTENCY_VECTORS
    if proof  # upstream probes only non-trivial proofs
    for desc, args, errors in corrupt_consistency(size1, size2, ROOTS[size1], ROOTS[size2], proof)
]


@pytest.mark.parametrize(("args", "errors"), CONSISTENCY_PROBES)
def test_corrupted_consistency_proof_is_rejected(
    args: tuple[object, ...], errors: tuple[type[VerificationError], ...]
) -> None:
    with pytest.raises(errors):
        verify_consistency(*args)  # type: ignore[arg-type]
    assert not is_valid_consistency(*args)  # type: ignore[arg-type]


OTHER_ROOT = ROOTS[5]
EMPTY = ROOTS[0]


@pytest.mark.parametrize(
    ("size1", "size2", "root1", "root2", "proof", "error"),
    [
        # Sizes that are always consistent (upstream uses "don't care" roots).
        pytest.param(0, 0, EMPTY, EMPTY, [], None, id="0-0"),
        pytest.param(0, 1, EMPTY, OTHER_ROOT, [], None, id="0-1"),
        pytest.param(1, 1, OTHER_ROOT, OTHER_ROOT, [], None, id="1-1"),
        # Time travel to the past.
        pytest.param(1, 0, EMPTY, OTHER_ROOT, [], BadProof, id="1-0"),
        pytest.param(2, 1, EMPTY, OTHER_ROOT, [], BadProof, id="2-1"),
        # Empty proof.
        pytest.param(1, 2, ROOTS[1], ROOTS[2], [], BadProof, id="1-2 empty proof"),
        # Roots don't match.
        pytest.param(0, 0, EMPTY, OTHER_ROOT, [], RootMismatch, id="0-0 roots differ"),
        pytest.param(1, 1, EMPTY, OTHER_ROOT, [], RootMismatch, id="1-1 roots differ"),
        # Roots match but the proof is not empty.
        pytest.param(0, 0, EMPTY, EMPTY, [EMPTY], BadProof, id="0-0 proof"),
        pytest.param(0, 1, EMPTY, EMPTY, [EMPTY], BadProof, id="0-1 proof"),
        pytest.param(1, 1, EMPTY, EMPTY, [EMPTY], BadProof, id="1-1 proof"),
        # Ours: a size-0 tree has exactly one root.
        pytest.param(0, 1, OTHER_ROOT, ROOTS[1], [], RootMismatch, id="0-1 non-empty old root"),
        pytest.param(0, 0, OTHER_ROOT, OTHER_ROOT, [], RootMismatch, id="0-0 non-empty roots"),
    ],
)
def test_consistency_edge_cases(
    size1: int,
    size2: int,
    root1: bytes,
    root2: bytes,
    proof: list[bytes],
    error: type[VerificationError] | None,
) -> None:
    """verify_test.go TestVerifyConsistency, with 32-byte roots and exact errors."""
    if error is None:
        verify_consistency(size1, size2, root1, root2, proof)
        assert is_valid_consistency(size1, size2, root1, root2, proof)
    else:
        with pytest.raises(error):
            verify_consistency(size1, size2, root1, root2, proof)
        assert not is_valid_consistency(size1, size2, root1, root2, proof)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param((True, 2, ROOTS[1], ROOTS[2], []), BadProof, id="bool size"),
        pytest.param((1, "2", ROOTS[1], ROOTS[2], []), BadProof, id="str size"),
        pytest.param((1, MAX_TREE_SIZE + 1, ROOTS[1], ROOTS[2], []), BadProof, id="size > 2**63"),
        pytest.param((-1, 2, ROOTS[1], ROOTS[2], []), BadProof, id="negative size"),
        pytest.param((1, 2, ROOTS[1], ROOTS[2], None), BadProof, id="proof is None"),
        pytest.param((1, 2, ROOTS[1], ROOTS[2], [SOME_HASH] * 65), BadProof, id="65 hashes"),
        pytest.param((1, 2, ROOTS[1][:16], ROOTS[2], []), BadEncoding, id="short old root"),
        pytest.param((1, 2, ROOTS[1], None, []), BadEncoding, id="no new root"),
    ],
)
def test_malformed_consistency_input_raises_typed_error(
    args: tuple[object, ...], error: type[VerificationError]
) -> None:
    with pytest.raises(error):
        verify_consistency(*args)  # type: ignore[arg-type]
    assert not is_valid_consistency(*args)  # type: ignore[arg-type]


def test_consistency_between_huge_sizes_is_checked_without_building() -> None:
    old, new = 2**62 + 3, MAX_TREE_SIZE
    proof = consistency_length_probe(old, new)
    with pytest.raises(RootMismatch):
        verify_consistency(old, new, ROOTS[1], ROOTS[2], proof)
    with pytest.raises(BadProof):
        verify_consistency(old, new, ROOTS[1], ROOTS[2], [*proof, SOME_HASH])


def consistency_length_probe(old: int, new: int) -> list[bytes]:
    """A proof of the right length for (old, new): found by trying lengths,
    since only the right one gets past the BadProof checks."""
    for length in range(1, MAX_PROOF_LENGTH + 1):
        candidate = [SOME_HASH] * length
        try:
            verify_consistency(old, new, ROOTS[1], ROOTS[2], candidate)
        except RootMismatch:
            return candidate
        except BadProof:
            continue
    raise AssertionError("no proof length accepted")

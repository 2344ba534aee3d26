"""``proofs.evm.ordered_trie`` builds the trie ``trie.HexaryTrie`` builds, and cuts the
proofs ``HexaryTrie.get_proof`` gives (inline nodes left out, as ``eth_getProof`` does).

HexaryTrie, filled key by key, is the reference; ``proofs.mpt.verify_proof`` must accept
every proof for the value stored, and prove absence for keys not stored."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from core.errors import InvalidInput
from proofs.evm.ordered_trie import build_ordered_trie, build_trie
from proofs.mpt import EMPTY_TRIE_ROOT, ordered_trie_root, verify_proof


def reference(items: dict[bytes, bytes]) -> HexaryTrie:
    trie = HexaryTrie({})
    for key, value in items.items():
        trie.set(key, value)
    return trie


def reference_proof(trie: HexaryTrie, key: bytes) -> list[bytes]:
    encoded = [rlp.encode(node) for node in trie.get_proof(key)]
    return [node for i, node in enumerate(encoded) if i == 0 or len(node) >= 32]


# Short keys so that they share prefixes, end inside each other (branch values) and
# diverge (extensions); values short (inline nodes) and long (hashed ones).
KEYS = st.binary(max_size=4)
VALUES = st.one_of(st.binary(min_size=1, max_size=8), st.binary(min_size=20, max_size=120))


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(KEYS, VALUES, max_size=40), st.lists(KEYS, max_size=6))
def test_the_trie_and_its_proofs_are_hexary_tries(
    items: dict[bytes, bytes], absent: list[bytes]
) -> None:
    trie = build_trie(items)
    expected = reference(items)
    assert trie.root == expected.root_hash
    assert set(trie.encoded) <= set(expected.db)  # the reference keeps replaced nodes too
    for node_hash, encoded in trie.encoded.items():
        assert expected.db[node_hash] == encoded
    for key in [*items, *absent]:
        proof = trie.prove(key)
        assert proof == reference_proof(expected, key)
        assert verify_proof(trie.root, key, proof) == items.get(key)


@pytest.mark.parametrize("count", [0, 1, 2, 16, 17, 127, 128, 129, 256, 300])
def test_a_block_s_trie_has_its_receipts_root(count: int) -> None:
    """Keys rlp(0..n-1): one byte below 128 (0x80 for 0), two from 128, three from 256."""
    values = [bytes([i % 251 + 1]) * (1 + i % 90) for i in range(count)]
    trie = build_ordered_trie(values)
    assert trie.root == ordered_trie_root(values)
    expected = reference({rlp.encode(i): v for i, v in enumerate(values)})
    for index, value in enumerate(values):
        proof = trie.prove(rlp.encode(index))
        assert proof == reference_proof(expected, rlp.encode(index))
        assert verify_proof(trie.root, rlp.encode(index), proof) == value


def test_the_empty_trie() -> None:
    trie = build_ordered_trie([])
    assert trie.root == EMPTY_TRIE_ROOT
    assert trie.prove(rlp.encode(0)) == []
    assert verify_proof(trie.root, rlp.encode(0), []) is None


@pytest.mark.parametrize("value", [b"", "text"])
def test_an_empty_or_non_bytes_value_is_refused(value: object) -> None:
    with pytest.raises(InvalidInput, match="non-empty bytes"):
        build_trie({b"\x01": value})  # type: ignore[dict-item]

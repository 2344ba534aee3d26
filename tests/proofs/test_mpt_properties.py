"""proofs.mpt properties over random tries (hypothesis).

Tries are built with ``trie.HexaryTrie`` (through ``mpt.build_proof`` /
``mpt.trie_root``) and proofs checked with ``mpt.verify_proof``. Keys come from
a small alphabet so that tries share prefixes, end inside extensions and get
branch values; short values make nodes under 32 bytes, which are embedded.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import rlp
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from core.errors import (
    BadEncoding,
    BadProof,
    InvalidInput,
    RootMismatch,
    ValueMismatch,
    VerificationError,
)
from proofs import mpt
from proofs.hashing import keccak256

SETTINGS = settings(max_examples=60, deadline=None)

keys = st.one_of(
    st.lists(st.sampled_from([0x00, 0x01, 0x10, 0x11, 0xAB, 0xFF]), max_size=5).map(bytes),
    st.binary(max_size=8),
)
values = st.one_of(st.binary(min_size=1, max_size=4), st.binary(min_size=1, max_size=80))
tries = st.dictionaries(keys, values, min_size=1, max_size=24)


def _raw_trie_proof(items: dict[bytes, bytes], key: bytes, secure: bool) -> list[bytes]:
    """py-trie's own proof shape (repeats inline nodes as entries), RLP-encoded."""
    trie = HexaryTrie({})
    for k, v in items.items():
        trie.set(keccak256(k) if secure else k, v)
    return [rlp.encode(node) for node in trie.get_proof(keccak256(key) if secure else key)]


# --- generic tries -----------------------------------------------------------


@SETTINGS
@given(items=tries, secure=st.booleans())
def test_every_key_proves_its_value(items: dict[bytes, bytes], secure: bool) -> None:
    root = mpt.trie_root(items, secure=secure)
    for key, value in items.items():
        proof_root, proof = mpt.build_proof(items, key, secure=secure)
        assert proof_root == root
        assert mpt.verify_proof(root, key, proof, secure=secure) == value
        raw = _raw_trie_proof(items, key, secure)
        assert mpt.verify_proof(root, key, raw, secure=secure) == value


@SETTINGS
@given(items=tries, key=keys, secure=st.booleans())
def test_absent_key_proves_absence(items: dict[bytes, bytes], key: bytes, secure: bool) -> None:
    assume(key not in items)
    root, proof = mpt.build_proof(items, key, secure=secure)
    assert mpt.verify_proof(root, key, proof, secure=secure) is None


@SETTINGS
@given(items=tries, other=keys, secure=st.booleans(), data=st.data())
def test_a_proof_never_lies_about_another_key(
    items: dict[bytes, bytes], other: bytes, secure: bool, data: st.DataObject
) -> None:
    """A's proof presented for B: BadProof, or B's true answer (its value, or None if absent).

    The truth is possible only when B's whole path lies inside A's proof with
    no node left over (B's value in a branch or inline node on A's path, or B
    leaving A's path at A's last node); anything else is BadProof.
    """
    key = data.draw(st.sampled_from(sorted(items)))
    assume(other != key)
    root, proof = mpt.build_proof(items, key, secure=secure)
    try:
        answer = mpt.verify_proof(root, other, proof, secure=secure)
    except BadProof:
        return
    assert answer == items.get(other)


@SETTINGS
@given(items=tries, data=st.data())
def test_present_secure_key_needs_its_own_proof(
    items: dict[bytes, bytes], data: st.DataObject
) -> None:
    """Hashed 32-byte paths: another present key always fails on A's proof.

    B leaves A's path at a branch where both children are non-empty; B's child
    is a hash the proof does not hold, because a leaf there could only be
    inline if two hashed keys shared ~40 leading nibbles.
    """
    assume(len(items) >= 2)
    key, other = data.draw(
        st.lists(st.sampled_from(sorted(items)), min_size=2, max_size=2, unique=True)
    )
    root, proof = mpt.build_proof(items, key, secure=True)
    with pytest.raises(BadProof):
        mpt.verify_proof(root, other, proof, secure=True)


@SETTINGS
@given(items=tries, other_items=tries, secure=st.booleans(), data=st.data())
def test_proof_against_another_root_fails(
    items: dict[bytes, bytes],
    other_items: dict[bytes, bytes],
    secure: bool,
    data: st.DataObject,
) -> None:
    other_root = mpt.trie_root(other_items, secure=secure)
    assume(other_root != mpt.trie_root(items, secure=secure))
    key = data.draw(st.sampled_from(sorted(items)))
    _root, proof = mpt.build_proof(items, key, secure=secure)
    with pytest.raises(RootMismatch):
        mpt.verify_proof(other_root, key, proof, secure=secure)


@SETTINGS
@given(items=tries, secure=st.booleans(), data=st.data())
def test_any_flipped_byte_is_rejected_where_it_is(
    items: dict[bytes, bytes], secure: bool, data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(items)))
    root, proof = mpt.build_proof(items, key, secure=secure)
    depth = data.draw(st.integers(0, len(proof) - 1))
    position = data.draw(st.integers(0, len(proof[depth]) - 1))
    mask = data.draw(st.integers(1, 255))
    node = bytearray(proof[depth])
    node[position] ^= mask
    forged = [*proof[:depth], bytes(node), *proof[depth + 1 :]]
    if depth == 0:
        with pytest.raises(RootMismatch):
            mpt.verify_proof(root, key, forged, secure=secure)
    else:
        with pytest.raises(BadProof, match=f"node hash mismatch at depth {depth}$"):
            mpt.verify_proof(root, key, forged, secure=secure)


@SETTINGS
@given(items=tries, key=keys, secure=st.booleans(), data=st.data())
def test_any_dropped_node_is_rejected(
    items: dict[bytes, bytes], key: bytes, secure: bool, data: st.DataObject
) -> None:
    root, proof = mpt.build_proof(items, key, secure=secure)
    depth = data.draw(st.integers(0, len(proof) - 1))
    forged = proof[:depth] + proof[depth + 1 :]
    if depth == 0 and forged:
        expected: tuple[type[Exception], str | None] = (RootMismatch, None)
    elif depth == 0:
        expected = (BadProof, "proof is empty")
    elif depth == len(proof) - 1:
        expected = (BadProof, "proof ends early")
    else:
        expected = (BadProof, f"node hash mismatch at depth {depth}$")
    with pytest.raises(expected[0], match=expected[1]):
        mpt.verify_proof(root, key, forged, secure=secure)


rlp_items = st.recursive(
    st.one_of(st.binary(max_size=3), st.binary(min_size=32, max_size=32), st.just(b"")),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=2),
        st.lists(children, min_size=17, max_size=17),
        st.lists(children, max_size=4),
    ),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(item=rlp_items, key=keys, secure=st.booleans())
def test_a_root_committing_to_any_node_never_crashes(item: Any, key: bytes, secure: bool) -> None:
    """Arbitrary (even ill-shaped) nodes under a matching root: an answer or a typed error."""
    encoded = rlp.encode(item)
    try:
        answer = mpt.verify_proof(keccak256(encoded), key, [encoded], secure=secure)
    except VerificationError:
        return
    assert answer is None or isinstance(answer, bytes)


@settings(max_examples=200, deadline=None)
@given(blob=st.binary(max_size=80), key=keys)
def test_committed_random_bytes_never_crash(blob: bytes, key: bytes) -> None:
    with contextlib.suppress(VerificationError):
        mpt.verify_proof(keccak256(blob), key, [blob])


def test_empty_trie_proves_every_key_absent() -> None:
    assert mpt.trie_root({}) == mpt.EMPTY_TRIE_ROOT
    root, proof = mpt.build_proof({}, b"any")
    assert (root, proof) == (mpt.EMPTY_TRIE_ROOT, [])
    assert mpt.verify_proof(root, b"any", []) is None
    assert mpt.verify_proof(root, b"any", [rlp.encode(b"")]) is None


# --- accounts and storage ----------------------------------------------------

addresses = st.binary(min_size=20, max_size=20)
accounts = st.builds(
    mpt.Account,
    nonce=st.integers(0, 2**64 - 1),
    balance=st.integers(0, 2**256 - 1),
    storage_root=st.binary(min_size=32, max_size=32),
    code_hash=st.binary(min_size=32, max_size=32),
)
slots = st.binary(min_size=32, max_size=32)
words = st.integers(1, 2**256 - 1)


@SETTINGS
@given(state=st.dictionaries(addresses, accounts, min_size=1, max_size=12), absent=addresses)
def test_account_proofs(state: dict[bytes, mpt.Account], absent: bytes) -> None:
    assume(absent not in state)
    items = {address: mpt.encode_account(account) for address, account in state.items()}
    for address, account in state.items():
        root, proof = mpt.build_proof(items, address, secure=True)
        assert mpt.decode_account(mpt.encode_account(account)) == account
        assert mpt.verify_account_proof(root, address, proof, claimed=account) == account
    root, proof = mpt.build_proof(items, absent, secure=True)
    assert mpt.verify_account_proof(root, absent, proof, claimed=mpt.EMPTY_ACCOUNT) is None
    with pytest.raises(ValueMismatch):
        mpt.verify_account_proof(root, absent, proof, claimed=mpt.Account(nonce=1, balance=0))


@SETTINGS
@given(storage=st.dictionaries(slots, words, min_size=1, max_size=12), absent=slots)
def test_storage_proofs(storage: dict[bytes, int], absent: bytes) -> None:
    assume(absent not in storage)
    items = {slot: rlp.encode(word) for slot, word in storage.items()}
    for slot, word in storage.items():
        root, proof = mpt.build_proof(items, slot, secure=True)
        assert mpt.verify_storage_proof(root, slot, proof, claimed=word) == word
        with pytest.raises(ValueMismatch):
            mpt.verify_storage_proof(root, slot, proof, claimed=word ^ 1)
    root, proof = mpt.build_proof(items, absent, secure=True)
    assert mpt.verify_storage_proof(root, absent, proof, claimed=0) == 0


# --- receipts ----------------------------------------------------------------

logs = st.builds(
    mpt.Log,
    address=st.binary(min_size=20, max_size=20),
    topics=st.lists(st.binary(min_size=32, max_size=32), max_size=4).map(tuple),
    data=st.binary(max_size=70),
)
blooms = st.one_of(st.just(bytes(256)), st.binary(min_size=256, max_size=256))


@st.composite
def receipts(draw: st.DrawFn) -> mpt.Receipt:
    tx_type = draw(st.sampled_from([0, 1, 2, 3, 4]))
    pre_byzantium = tx_type == 0 and draw(st.booleans())
    return mpt.Receipt(
        tx_type=tx_type,
        status=None if pre_byzantium else draw(st.sampled_from([0, 1])),
        post_state=draw(st.binary(min_size=32, max_size=32)) if pre_byzantium else None,
        cumulative_gas_used=draw(st.integers(0, 2**64 - 1)),
        logs_bloom=draw(blooms),
        logs=tuple(draw(st.lists(logs, max_size=3))),
    )


def _to_rpc(receipt: mpt.Receipt) -> dict[str, Any]:
    """The JSON-RPC shape of a receipt (the fields that matter, plus noise)."""
    obj: dict[str, Any] = {
        "type": hex(receipt.tx_type),
        "cumulativeGasUsed": hex(receipt.cumulative_gas_used),
        "logsBloom": "0x" + receipt.logs_bloom.hex(),
        "logs": [
            {
                "address": "0x" + log.address.hex(),
                "topics": ["0x" + t.hex() for t in log.topics],
                "data": "0x" + log.data.hex(),
                "logIndex": "0x0",
                "removed": False,
            }
            for log in receipt.logs
        ],
        "transactionHash": "0x" + "00" * 32,
        "gasUsed": "0x5208",
    }
    if receipt.status is None:
        obj["root"] = "0x" + receipt.post_state.hex()
    else:
        obj["status"] = hex(receipt.status)
    return obj


@SETTINGS
@given(block=st.lists(receipts(), min_size=1, max_size=20), data=st.data())
def test_receipt_proof_round_trip(block: list[mpt.Receipt], data: st.DataObject) -> None:
    root = mpt.receipts_root(block)
    index = data.draw(st.integers(0, len(block) - 1))
    proof_root, proof = mpt.prove_receipt(block, index)
    assert proof_root == root
    encoded = mpt.verify_receipt_proof(root, index, proof, claimed=block[index])
    assert encoded == mpt.encode_receipt(block[index])
    assert mpt.decode_receipt(encoded) == block[index]
    assert mpt.receipt_from_rpc(_to_rpc(block[index])) == block[index]
    other = data.draw(st.integers(0, len(block) + 2))
    assume(other != index)
    try:
        answer = mpt.verify_receipt_proof(root, other, proof)
    except (BadProof, ValueMismatch):
        return
    assert answer == mpt.encode_receipt(block[other])


def test_receipts_beyond_one_byte_keys() -> None:
    """Indices 128+ have two-byte keys (rlp(128) = 0x8180): they share a trie with 0..127."""
    block = [
        mpt.Receipt(
            tx_type=i % 3, status=i % 2, cumulative_gas_used=21000 * (i + 1), logs_bloom=bytes(256)
        )
        for i in range(300)
    ]
    root = mpt.receipts_root(block)
    for index in (0, 1, 127, 128, 129, 255, 256, 299):
        proof_root, proof = mpt.prove_receipt(block, index)
        assert proof_root == root
        assert mpt.decode_receipt(mpt.verify_receipt_proof(root, index, proof)) == block[index]
    _root, proof = mpt.prove_receipt(block, 5)
    with pytest.raises(ValueMismatch):
        mpt.verify_receipt_proof(root, 5, proof, claimed=block[6])


# --- hand-built shapes the random search rarely reaches ----------------------

HASH = b"\x11" * 32
BAD_SHAPES = {
    "three items": ([b"a", b"b", b"c"], b"", "has 3 items"),
    "string root": (b"abc", b"", "is a string"),
    "flag 4": ([b"\x40", b"v"], b"", "hex-prefix flag 4"),
    "padding": ([b"\x25", b"v"], b"", "padding nibble"),
    "no path": ([b"", b"v"], b"", "no hex-prefix path"),
    "empty leaf": ([b"\x20", b""], b"", "empty or list value"),
    "list leaf": ([b"\x20", [b"a"]], b"", "empty or list value"),
    "empty extension": ([b"\x00", HASH], b"\x12", "empty path"),
    "short child": ([b"\x11", b"abcde"], b"\x12", "is 5 bytes"),
    "blank child": ([b"\x11", b""], b"\x12", "no child"),
    "branch child": ([b"abcde"] + [b""] * 16, b"\x12", "branch child 0"),
    "branch value": ([b""] * 16 + [[b"a"]], b"", "branch value"),
    "big inline": ([[b"\x20", b"x" * 40]] + [b""] * 16, b"\x01", "inline but 32 bytes"),
}


@pytest.mark.parametrize(("node", "key", "reason"), BAD_SHAPES.values(), ids=list(BAD_SHAPES))
def test_malformed_committed_node(node: Any, key: bytes, reason: str) -> None:
    encoded = rlp.encode(node)
    with pytest.raises(BadProof, match=reason):
        mpt.verify_proof(keccak256(encoded), key, [encoded])


def test_blank_node_below_the_root() -> None:
    blank = rlp.encode(b"")
    branch = rlp.encode([keccak256(blank)] + [b""] * 16)
    with pytest.raises(BadProof, match="blank node below the root"):
        mpt.verify_proof(keccak256(branch), b"\x01", [branch, blank])


def test_proof_longer_than_the_key_allows() -> None:
    _root, proof = mpt.build_proof({b"\x01": b"a" * 40, b"\x02": b"b" * 40}, b"\x01")
    with pytest.raises(BadProof, match="at most 1"):
        mpt.verify_proof(keccak256(proof[0]), b"", [proof[0], proof[0]])


def test_empty_proof_for_a_non_empty_root() -> None:
    with pytest.raises(BadProof, match="proof is empty"):
        mpt.verify_proof(HASH, b"k", [])


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: mpt.verify_proof(b"\x00" * 31, b"k", []), BadEncoding),
        (lambda: mpt.verify_proof("00" * 32, b"k", []), InvalidInput),
        (lambda: mpt.verify_proof(HASH, "k", []), InvalidInput),
        (lambda: mpt.verify_proof(HASH, b"k", b"\x80"), InvalidInput),
        (lambda: mpt.verify_proof(HASH, b"k", ["0x80"]), InvalidInput),
        (lambda: mpt.proof_from_hex(["0x1"]), BadEncoding),
        (lambda: mpt.proof_from_hex(["80"]), BadEncoding),
        (lambda: mpt.proof_from_hex(["0x 80"]), BadEncoding),
        (lambda: mpt.proof_from_hex("0x80"), InvalidInput),
        (lambda: mpt.decode_rlp("0x80"), InvalidInput),
        (lambda: mpt.verify_account_proof(HASH, b"\x01" * 19, []), InvalidInput),
        (lambda: mpt.verify_storage_proof(HASH, b"\x01" * 31, []), InvalidInput),
        (lambda: mpt.trie_root({b"k": b""}), InvalidInput),
        (lambda: mpt.transactions_root(b"\x01"), InvalidInput),
        (lambda: mpt.prove_receipt([], 0), InvalidInput),
        (lambda: mpt.verify_receipt_proof(HASH, -1, []), InvalidInput),
    ],
)
def test_bad_arguments(call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    "value",
    [
        rlp.encode([1, 2, HASH]),
        rlp.encode([b"\x00\x01", 0, HASH, HASH]),
        rlp.encode([1, 0, HASH[:31], HASH]),
        rlp.encode([[b"a"], 0, HASH, HASH]),
        b"\xc0\x00",
    ],
)
def test_bad_account_values(value: bytes) -> None:
    with pytest.raises(BadEncoding):
        mpt.decode_account(value)


@pytest.mark.parametrize(
    "value",
    [rlp.encode(b""), rlp.encode(b"\x00\x01"), rlp.encode(b"\x01" * 33), rlp.encode([b"\x01"])],
)
def test_bad_storage_values(value: bytes) -> None:
    with pytest.raises(BadEncoding):
        mpt.decode_storage_value(value)


def _receipt_payload(*fields: Any) -> bytes:
    return rlp.encode(list(fields))


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"\x80",
        b"\x00" + _receipt_payload(1, 0, bytes(256), []),
        b"\x02" + _receipt_payload(1, 0, bytes(256)),
        _receipt_payload(2, 0, bytes(256), []),
        _receipt_payload(1, 0, bytes(255), []),
        _receipt_payload(1, b"\x00\x01", bytes(256), []),
        _receipt_payload(1, 0, bytes(256), b"logs"),
        _receipt_payload(1, 0, bytes(256), [[b"\x01" * 20, [], b""], [b"x"]]),
        _receipt_payload(1, 0, bytes(256), [[b"\x01" * 20, [b"\x01" * 31], b""]]),
        _receipt_payload(1, 0, bytes(256), [[b"\x01" * 19, [], b""]]),
    ],
)
def test_bad_receipt_values(value: bytes) -> None:
    with pytest.raises(BadEncoding):
        mpt.decode_receipt(value)


def test_bad_rpc_objects() -> None:
    good = _to_rpc(mpt.Receipt(tx_type=2, status=1, cumulative_gas_used=1, logs_bloom=bytes(256)))
    assert mpt.receipt_from_rpc(good).tx_type == 2
    for broken in (
        {k: v for k, v in good.items() if k != "cumulativeGasUsed"},
        {**good, "status": "0x2"},
        {**good, "logsBloom": "0x00"},
        {**good, "type": "0x80"},
        {k: v for k, v in good.items() if k != "status"},
    ):
        with pytest.raises(BadEncoding):
            mpt.receipt_from_rpc(broken)
    with pytest.raises(InvalidInput):
        mpt.Receipt(
            tx_type=0, status=1, cumulative_gas_used=1, logs_bloom=bytes(256), post_state=HASH
        )
    response = {
        "address": "0x" + "01" * 20,
        "nonce": "0x0",
        "balance": "0x0",
        "storageHash": "0x" + mpt.EMPTY_TRIE_ROOT.hex(),
        "codeHash": "0x" + mpt.EMPTY_CODE_HASH.hex(),
        "accountProof": [],
        "storageProof": [{"key": "0x1" + "00" * 32, "value": "0x0", "proof": []}],
    }
    with pytest.raises(BadEncoding, match="longer than 32 bytes"):
        mpt.verify_eip1186_response(mpt.EMPTY_TRIE_ROOT, response)
    with pytest.raises(BadEncoding, match="no 'nonce'"):
        mpt.verify_eip1186_response(
            mpt.EMPTY_TRIE_ROOT, {k: v for k, v in response.items() if k != "nonce"}
        )
    assert mpt.verify_eip1186_response(
        mpt.EMPTY_TRIE_ROOT, {**response, "storageProof": []}
    ) == mpt.ProvenAccount(address=b"\x01" * 20, account=None, storage={})

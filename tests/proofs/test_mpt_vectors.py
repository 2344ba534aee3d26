"""proofs.mpt against third-party data: ethereum/tests, real eth_getProof answers, real blocks.

Every case is parametrised at collection time from ``../shared/vectors``; the
inventory tests pin the exact file lists and case counts, so a missing file or
folder fails the run instead of silently testing less.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from trie import HexaryTrie
from trie.exceptions import ValidationError

from core.errors import BadEncoding, BadProof, RootMismatch, ValueMismatch
from proofs import mpt
from proofs.hashing import keccak256
from tests.fixtures.vectors import vectors_dir

MPT_DIR = vectors_dir() / "ethereum-mpt-headers"
ETH_TESTS = MPT_DIR / "ethereum-tests"
TRIE_DIR = ETH_TESTS / "TrieTests"
RLP_DIR = ETH_TESTS / "RLPTests"
CHAIN_DIR = ETH_TESTS / "BlockchainTests"
EXPECTED_1186 = MPT_DIR / "EIP1186_EXPECTED.derived.json"

# file -> (number of tests, secure trie?)
TRIE_FILES = {
    "trietest.json": (5, False),
    "trietest_secureTrie.json": (3, True),
    "trieanyorder.json": (7, False),
    "trieanyorder_secureTrie.json": (7, True),
    "hex_encoded_securetrie_test.json": (3, True),
    "trietestnextprev.json": (1, False),
}
PROOF_FILES = {
    "ethereumjs/eip1186-proofs/mainnet-provider-data/accounts/"
    "0x580992b51e3925e23280efb93d3047c82f17e038.json",
    "ethereumjs/eip1186-proofs/ropsten/ropsten_contractWithStorage.json",
    "ethereumjs/eip1186-proofs/ropsten/ropsten_validAccount.json",
    "ethereumjs/eip1186-proofs/ropsten/ropsten_nonexistentAccount.json",
    "helios/proof_deposit_contract_block_21925176.json",
    "helios/proof_miner_block_21925176.json",
}
EIP1186_CASES = 7
STORAGE_PROOFS = 3
BLOCKCHAIN_FILES = 17
BLOCKCHAIN_BLOCKS = 17


def _load(path: Path) -> Any:
    return json.loads(path.read_text())


def _b(text: str | None) -> bytes | None:
    """ethereum/tests strings: ``0x`` hex, else ASCII; ``None`` stays (= delete)."""
    if text is None:
        return None
    return bytes.fromhex(text[2:]) if text.startswith("0x") else text.encode()


# --- TrieTests ---------------------------------------------------------------


def _trie_cases() -> Iterator[Any]:
    for name, (_count, secure) in TRIE_FILES.items():
        if name == "trietestnextprev.json":
            continue
        for test, case in _load(TRIE_DIR / name).items():
            yield pytest.param(case, secure, id=f"{name}:{test}")


def _operations(case: dict) -> list[tuple[bytes, bytes | None]]:
    raw = case["in"]
    pairs = raw.items() if isinstance(raw, dict) else raw
    return [(_b(k), _b(v)) for k, v in pairs]


def _apply(ops: list[tuple[bytes, bytes | None]], secure: bool) -> tuple[HexaryTrie, dict]:
    """The trie after ``ops`` in order (None / empty = delete) and the final key -> value map."""
    trie, final = HexaryTrie({}), {}
    for key, value in ops:
        trie_key = keccak256(key) if secure else key
        if value:
            trie.set(trie_key, value)
            final[key] = value
        else:
            trie.delete(trie_key)
            final.pop(key, None)
    return trie, final


def _trie_proof(trie: HexaryTrie, key: bytes, secure: bool) -> list[bytes]:
    """py-trie's own proof, RLP-encoded; it repeats inline nodes as entries."""
    return [rlp.encode(node) for node in trie.get_proof(keccak256(key) if secure else key)]


def _oracle(root: bytes, trie_key: bytes, nodes: Any) -> bytes | None:
    """py-trie's own answer from a proof (``b""`` = absent), the independent cross-check.

    ``None`` where trie 4.0.0 cannot answer: ``get`` raises ValidationError
    ("Traverse should never return an extension node with remaining key") for a
    key that ends inside an extension node's path, a plain absent key.
    """
    try:
        return HexaryTrie.get_from_proof(root, trie_key, nodes)
    except ValidationError as err:
        if "extension node with remaining key" not in str(err):
            raise
        return None


def _absent_keys(final: dict[bytes, bytes]) -> list[bytes]:
    candidates = [b"", b"absent-key", b"\xff" * 32]
    for key in final:
        candidates += [key + b"\x00", key[:-1], bytes([key[0] ^ 0x80]) + key[1:] if key else b"x"]
    return sorted({k for k in candidates if k not in final})


def test_trie_inventory() -> None:
    assert sorted(p.name for p in TRIE_DIR.glob("*.json")) == sorted(TRIE_FILES)
    for name, (count, _secure) in TRIE_FILES.items():
        assert len(_load(TRIE_DIR / name)) == count, name


@pytest.mark.parametrize(("case", "secure"), list(_trie_cases()))
def test_trie_root(case: dict, secure: bool) -> None:
    trie, final = _apply(_operations(case), secure)
    expected = bytes.fromhex(case["root"][2:])
    assert trie.root_hash == expected
    assert mpt.trie_root(final, secure=secure) == expected


@pytest.mark.parametrize(("case", "secure"), list(_trie_cases()))
def test_trie_inclusion_proofs(case: dict, secure: bool) -> None:
    trie, final = _apply(_operations(case), secure)
    root = trie.root_hash
    for key, value in final.items():
        trie_key = keccak256(key) if secure else key
        raw = _trie_proof(trie, key, secure)
        assert mpt.verify_proof(root, key, raw, secure=secure) == value
        assert _oracle(root, trie_key, trie.get_proof(trie_key)) == value
        built_root, compact = mpt.build_proof(final, key, secure=secure)
        assert built_root == root
        assert mpt.verify_proof(root, key, compact, secure=secure) == value


@pytest.mark.parametrize(("case", "secure"), list(_trie_cases()))
def test_trie_exclusion_proofs(case: dict, secure: bool) -> None:
    trie, final = _apply(_operations(case), secure)
    for key in _absent_keys(final):
        trie_key = keccak256(key) if secure else key
        assert (
            mpt.verify_proof(trie.root_hash, key, _trie_proof(trie, key, secure), secure=secure)
            is None
        )
        assert _oracle(trie.root_hash, trie_key, trie.get_proof(trie_key)) in (b"", None)
        _root, compact = mpt.build_proof(final, key, secure=secure)
        assert mpt.verify_proof(trie.root_hash, key, compact, secure=secure) is None


def test_inline_nodes_occur_and_verify() -> None:
    """Some vector tries embed nodes under 32 bytes: both proof shapes must verify."""
    inline_seen = 0
    for param in _trie_cases():
        case, secure = param.values
        trie, final = _apply(_operations(case), secure)
        for key in final:
            raw = _trie_proof(trie, key, secure)
            _root, compact = mpt.build_proof(final, key, secure=secure)
            inline_seen += len(raw) - len(compact)
    assert inline_seen > 0


def test_trietestnextprev_keys_and_probes() -> None:
    """No roots here: its keys prove inclusion, its probes (prefixes, extensions) absence.

    The prev/next answers are iterator semantics a single-path proof cannot
    show, so they are not checked.
    """
    for case in _load(TRIE_DIR / "trietestnextprev.json").values():
        items = {k.encode(): b"v:" + k.encode() for k in case["in"]}
        for probe, _prev, _next in case["tests"]:
            key = probe.encode()
            root, proof = mpt.build_proof(items, key)
            assert mpt.verify_proof(root, key, proof) == items.get(key)


# --- EIP-1186 proofs ---------------------------------------------------------


def _proof_cases() -> list[dict]:
    """EIP1186_EXPECTED entries, each with its loaded response and state root."""
    cases = []
    for entry in _load(EXPECTED_1186)["cases"]:
        path, _, block_key = entry["proof"].partition(', key "')
        response = _load(MPT_DIR / path)
        if block_key:
            response = response[block_key.rstrip('"')]
        cases.append(
            {
                **entry,
                "file": path,
                "response": response,
                "root": bytes.fromhex(entry["state_root"][2:]),
                "exclusion": "EXCLUSION" in entry["account_proof"],
            }
        )
    return cases


CASES = _proof_cases()


def _case_id(case: dict) -> str:
    return f"{Path(case['file']).stem}@{case.get('block_number', 'ropsten')}"


def _targets() -> Iterator[Any]:
    """Every single proof in the files: (root, key, nodes), secure-trie keyed."""
    for case in CASES:
        resp = case["response"]
        address = bytes.fromhex(resp["address"][2:])
        nodes = mpt.proof_from_hex(resp["accountProof"])
        yield pytest.param(case["root"], address, nodes, id=f"{_case_id(case)}:account")
        storage_root = bytes.fromhex(resp["storageHash"][2:])
        for entry in resp["storageProof"]:
            slot = int(entry["key"], 16).to_bytes(32, "big")
            nodes = mpt.proof_from_hex(entry["proof"])
            yield pytest.param(storage_root, slot, nodes, id=f"{_case_id(case)}:{entry['key']}")


TARGETS = list(_targets())


def test_eip1186_inventory() -> None:
    on_disk = {
        str(p.relative_to(MPT_DIR))
        for p in [
            *MPT_DIR.glob("ethereumjs/eip1186-proofs/*/**/*.json"),
            *MPT_DIR.glob("helios/proof_*.json"),
        ]
        if "/blocks/" not in str(p)
    }
    assert on_disk == PROOF_FILES
    assert {case["file"] for case in CASES} == PROOF_FILES
    assert len(CASES) == EIP1186_CASES
    assert len(TARGETS) == EIP1186_CASES + STORAGE_PROOFS


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_state_root_is_the_blocks(case: dict) -> None:
    if case["header"]:
        assert _load(MPT_DIR / case["header"])["stateRoot"] == case["state_root"]
    else:
        first = bytes.fromhex(case["response"]["accountProof"][0][2:])
        assert keccak256(first) == case["root"]


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_eip1186_response_verifies(case: dict) -> None:
    resp = case["response"]
    proven = mpt.verify_eip1186_response(case["root"], resp)
    assert (proven.account is None) == case["exclusion"]
    account = proven.account or mpt.EMPTY_ACCOUNT
    assert account.nonce == int(resp["nonce"], 16)
    assert account.balance == int(resp["balance"], 16)
    assert "0x" + account.storage_root.hex() == resp["storageHash"]
    assert "0x" + account.code_hash.hex() == resp["codeHash"]
    expected_storage = {
        int(e["key"], 16).to_bytes(32, "big"): int(e["value"], 16) for e in resp["storageProof"]
    }
    assert dict(proven.storage) == expected_storage


def test_ropsten_storage_has_inclusion_and_exclusion() -> None:
    (case,) = [c for c in CASES if c["file"].endswith("ropsten_contractWithStorage.json")]
    values = sorted(mpt.verify_eip1186_response(case["root"], case["response"]).storage.values())
    assert values[0] == 0
    assert values[1] > 0


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_claimed_account_mismatch(case: dict) -> None:
    resp = case["response"]
    address = bytes.fromhex(resp["address"][2:])
    nodes = mpt.proof_from_hex(resp["accountProof"])
    account = mpt.verify_account_proof(case["root"], address, nodes)
    wrong = mpt.Account(
        nonce=(account or mpt.EMPTY_ACCOUNT).nonce,
        balance=(account or mpt.EMPTY_ACCOUNT).balance + 1,
    )
    with pytest.raises(ValueMismatch):
        mpt.verify_account_proof(case["root"], address, nodes, claimed=wrong)
    tampered = {**resp, "balance": hex(int(resp["balance"], 16) + 1)}
    with pytest.raises(ValueMismatch):
        mpt.verify_eip1186_response(case["root"], tampered)


def test_claimed_storage_mismatch() -> None:
    for case in CASES:
        resp = case["response"]
        for entry in resp["storageProof"]:
            slot = int(entry["key"], 16).to_bytes(32, "big")
            nodes = mpt.proof_from_hex(entry["proof"])
            root = bytes.fromhex(resp["storageHash"][2:])
            claimed = int(entry["value"], 16) + 1
            with pytest.raises(ValueMismatch):
                mpt.verify_storage_proof(root, slot, nodes, claimed=claimed)


def _flip(node: bytes) -> bytes:
    middle = len(node) // 2
    return node[:middle] + bytes([node[middle] ^ 0x01]) + node[middle + 1 :]


@pytest.mark.parametrize(("root", "key", "nodes"), TARGETS)
def test_untampered_proof_verifies(root: bytes, key: bytes, nodes: list[bytes]) -> None:
    value = mpt.verify_proof(root, key, nodes, secure=True)
    oracle = _oracle(root, keccak256(key), [rlp.decode(n) for n in nodes])
    assert (value or b"") == oracle


@pytest.mark.parametrize(("root", "key", "nodes"), TARGETS)
def test_flipped_byte_in_any_node(root: bytes, key: bytes, nodes: list[bytes]) -> None:
    with pytest.raises(RootMismatch):
        mpt.verify_proof(root, key, [_flip(nodes[0]), *nodes[1:]], secure=True)
    for depth in range(1, len(nodes)):
        forged = [*nodes[:depth], _flip(nodes[depth]), *nodes[depth + 1 :]]
        with pytest.raises(BadProof, match=f"node hash mismatch at depth {depth}$"):
            mpt.verify_proof(root, key, forged, secure=True)


@pytest.mark.parametrize(("root", "key", "nodes"), TARGETS)
def test_dropped_node(root: bytes, key: bytes, nodes: list[bytes]) -> None:
    with pytest.raises(RootMismatch):
        mpt.verify_proof(root, key, nodes[1:], secure=True)
    for depth in range(1, len(nodes) - 1):
        with pytest.raises(BadProof, match=f"node hash mismatch at depth {depth}$"):
            mpt.verify_proof(root, key, nodes[:depth] + nodes[depth + 1 :], secure=True)
    with pytest.raises(BadProof, match="proof ends early"):
        mpt.verify_proof(root, key, nodes[:-1], secure=True)


@pytest.mark.parametrize(("root", "key", "nodes"), TARGETS)
def test_wrong_root(root: bytes, key: bytes, nodes: list[bytes]) -> None:
    with pytest.raises(RootMismatch):
        mpt.verify_proof(_flip(root), key, nodes, secure=True)
    with pytest.raises(RootMismatch):
        mpt.verify_proof(mpt.EMPTY_TRIE_ROOT, key, nodes, secure=True)


@pytest.mark.parametrize(("root", "key", "nodes"), TARGETS)
def test_wrong_key(root: bytes, key: bytes, nodes: list[bytes]) -> None:
    """A key whose path leaves the proven one at the root: the walk needs a node the proof lacks."""
    first_nibble = keccak256(key)[0] >> 4
    other = next(
        key[:-1] + bytes([b])
        for b in range(256)
        if keccak256(key[:-1] + bytes([b]))[0] >> 4 != first_nibble
    )
    with pytest.raises(BadProof):
        mpt.verify_proof(root, other, nodes, secure=True)


@pytest.mark.parametrize(("root", "key", "nodes"), TARGETS)
def test_extra_node_is_rejected(root: bytes, key: bytes, nodes: list[bytes]) -> None:
    with pytest.raises(BadProof, match="unused"):
        mpt.verify_proof(root, key, [*nodes, nodes[-1]], secure=True)


def test_wrong_address_in_response() -> None:
    for case in CASES:
        resp = case["response"]
        address = bytes.fromhex(resp["address"][2:])
        other = "0x" + bytes([address[0] ^ 0xFF]).hex() + address[1:].hex()
        with pytest.raises(BadProof):
            mpt.verify_eip1186_response(case["root"], {**resp, "address": other})


def test_committed_garbage_is_bad_encoding() -> None:
    """A root that commits to bytes that are not RLP: the hash links, the decoding fails."""
    garbage = b"\xf8\x05abc"
    with pytest.raises(BadEncoding):
        mpt.verify_proof(keccak256(garbage), b"\x01", [garbage])


# --- block roots -------------------------------------------------------------


def _blockchain_blocks() -> Iterator[Any]:
    for path in sorted(CHAIN_DIR.glob("**/*.json")):
        for test, body in _load(path).items():
            yield pytest.param(body["genesisRLP"], None, id=f"{path.stem}:{test}:genesis")
            for i, block in enumerate(body["blocks"]):
                expect = block.get("expectException")
                yield pytest.param(block["rlp"], expect, id=f"{path.stem}:{test}:{i}")


def test_blockchain_inventory() -> None:
    assert len(list(CHAIN_DIR.glob("**/*.json"))) == BLOCKCHAIN_FILES
    assert len(list(_blockchain_blocks())) == BLOCKCHAIN_FILES + BLOCKCHAIN_BLOCKS


@pytest.mark.parametrize(("block_rlp", "expect"), list(_blockchain_blocks()))
def test_block_transactions_and_withdrawals_roots(block_rlp: str, expect: str | None) -> None:
    """transactionsTrie (and withdrawalsRoot) from the block body; receipts are not in the files."""
    block = rlp.decode(bytes.fromhex(block_rlp[2:]))
    header, transactions = block[0], block[1]
    raw = [rlp.encode(tx) if isinstance(tx, list) else tx for tx in transactions]
    computed = mpt.transactions_root(raw)
    if expect == "BlockException.INVALID_TRANSACTIONS_ROOT":
        assert computed != header[4]
    else:
        assert computed == header[4]
    if not transactions:
        assert mpt.receipts_root([]) == header[5]
    if len(header) > 16 and len(block) > 3:
        assert mpt.ordered_trie_root([rlp.encode(w) for w in block[3]]) == header[16]


@pytest.mark.parametrize("name", ["block0x7a11f.json", "block0x7a120.json"])
def test_empty_mainnet_blocks(name: str) -> None:
    block = _load(MPT_DIR / "ethereumjs/eip1186-proofs/mainnet-provider-data/blocks" / name)
    assert block["transactions"] == []
    assert "0x" + mpt.transactions_root([]).hex() == block["transactionsRoot"]
    assert "0x" + mpt.receipts_root([]).hex() == block["receiptsRoot"]


def test_helios_withdrawals_root() -> None:
    block = _load(MPT_DIR / "helios/block_21925176.json")
    encoded = [
        rlp.encode(
            [
                int(w["index"], 16),
                int(w["validatorIndex"], 16),
                bytes.fromhex(w["address"][2:]),
                int(w["amount"], 16),
            ]
        )
        for w in block["withdrawals"]
    ]
    assert "0x" + mpt.ordered_trie_root(encoded).hex() == block["withdrawalsRoot"]


# --- RLPTests ----------------------------------------------------------------


def _rlp_input(value: Any) -> Any:
    if isinstance(value, list):
        return [_rlp_input(v) for v in value]
    if isinstance(value, str) and value.startswith("#"):
        return int(value[1:])
    if isinstance(value, str):
        return value.encode("utf-8")
    return value


def test_rlp_inventory() -> None:
    assert sorted(p.name for p in RLP_DIR.glob("*.json")) == ["invalidRLPTest.json", "rlptest.json"]
    assert len(_load(RLP_DIR / "rlptest.json")) == 28
    assert len(_load(RLP_DIR / "invalidRLPTest.json")) == 26


@pytest.mark.parametrize(
    ("value", "out"),
    [pytest.param(c["in"], c["out"], id=n) for n, c in _load(RLP_DIR / "rlptest.json").items()],
)
def test_rlp_round_trip(value: Any, out: str) -> None:
    encoded = bytes.fromhex(out[2:])
    assert rlp.encode(_rlp_input(value)) == encoded
    assert rlp.encode(mpt.decode_rlp(encoded)) == encoded


@pytest.mark.parametrize(
    "out",
    [pytest.param(c["out"], id=n) for n, c in _load(RLP_DIR / "invalidRLPTest.json").items()],
)
def test_invalid_rlp_is_rejected(out: str) -> None:
    data = bytes.fromhex(out[2:] if out.startswith("0x") else out)
    with pytest.raises(BadEncoding):
        mpt.decode_rlp(data)

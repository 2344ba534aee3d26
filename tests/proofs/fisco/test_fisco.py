"""FISCO BCOS 2.x on the real headers and proof of the vectors, their malleations, and
trees and sealer changes built by the same rules."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import coincurve
import pytest

from core.errors import VerificationError
from proofs.fisco import (
    HeaderUpdate,
    compute_header_hash,
    compute_merkle_proof,
    compute_merkle_root,
    compute_quorum,
    decode_header,
    decode_proof,
    update_client,
    verify_header,
    verify_merkle_proof,
)
from proofs.fisco import errors as E
from proofs.fisco.header import Header
from proofs.hashing import keccak256


@pytest.fixture(scope="session")
def fisco_dir(shared_vectors: Path) -> Path:
    path = shared_vectors / "fisco-bcos"
    assert path.is_dir(), f"missing {path}"
    return path


def load(fisco_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((fisco_dir / name).read_text())


@pytest.mark.parametrize(
    ("name", "signers"), [("header_4sealers.json", [0, 2, 3]), ("block_1sealer.json", [0])]
)
def test_real_header_hash_signatures_and_finality(
    fisco_dir: Path, name: str, signers: list[int]
) -> None:
    doc = load(fisco_dir, name)
    header = decode_header(doc)
    assert compute_header_hash(header) == header.hash
    assert verify_header(header, header.sealer_list) == signers


def test_quorum_rule() -> None:
    assert [compute_quorum(n) for n in (1, 2, 3, 4, 5, 7, 10)] == [1, 2, 3, 3, 4, 5, 7]


def test_real_transaction_proof_folds_to_transactions_root(fisco_dir: Path) -> None:
    doc = load(fisco_dir, "txproof.json")
    proof = decode_proof(doc["txProof"])
    index = int(doc["transactionIndex"], 16)
    verify_merkle_proof(
        index, bytes.fromhex(doc["txHash"][2:]), proof, bytes.fromhex(doc["transactionsRoot"][2:])
    )


# --- malleations of the real data ----------------------------------------------------------


def _sig(doc: dict, position: int) -> dict:
    return doc["signatureList"][position]


def flip_hex(text: str, at: int = -3) -> str:
    chars = list(text)
    chars[at] = "0" if chars[at] != "0" else "1"
    return "".join(chars)


def sealer_index(doc: dict) -> None:
    """A signature moved to another sealer's index (same signature)."""
    _sig(doc, 1)["index"] = "0x1"


def sealer_key(doc: dict) -> None:
    """The header's sealer key replaced: the header hash commits to the list."""
    doc["sealerList"][1] = "11" * 64


def signature_byte(doc: dict) -> None:
    _sig(doc, 0)["signature"] = flip_hex(_sig(doc, 0)["signature"], 10)


def duplicated_signature(doc: dict) -> None:
    doc["signatureList"].append(copy.deepcopy(_sig(doc, 0)))


def index_past(doc: dict) -> None:
    _sig(doc, 0)["index"] = "0x4"


def one_signature_dropped(doc: dict) -> None:
    del doc["signatureList"][2]


def block_hash(doc: dict) -> None:
    doc["hash"] = flip_hex(doc["hash"])


def state_root(doc: dict) -> None:
    doc["stateRoot"] = flip_hex(doc["stateRoot"])


def bad_v(doc: dict) -> None:
    sig = _sig(doc, 0)["signature"]
    _sig(doc, 0)["signature"] = sig[:-2] + "05"


def sealer_field(doc: dict) -> None:
    """The proposer index past the list (re-hashed, as the header commits to it)."""
    doc["sealer"] = "0x9"
    doc["hash"] = "0x" + compute_header_hash(decode_header(doc)).hex()


HEADER_ROWS: list[tuple[str, Callable[[dict], None], type]] = [
    ("a sealer index", sealer_index, E.BadSealerSignature),
    ("a sealer key", sealer_key, E.HeaderHashMismatch),
    ("a signature byte", signature_byte, E.BadSealerSignature),
    ("a duplicated signature", duplicated_signature, E.DuplicateSealer),
    ("an index past the list", index_past, E.SealerIndexOutOfRange),
    ("one signature dropped (2 of 4)", one_signature_dropped, E.InsufficientSealers),
    ("the block hash", block_hash, E.HeaderHashMismatch),
    ("the state root", state_root, E.HeaderHashMismatch),
    ("a signature's v", bad_v, E.MalformedHeader),
    ("the sealer field", sealer_field, E.SealerIndexOutOfRange),
]


@pytest.mark.parametrize(
    ("row", "mutate", "error"), HEADER_ROWS, ids=[r for r, _, _ in HEADER_ROWS]
)
def test_malleated_real_header_is_refused_with_its_reason(
    fisco_dir: Path, row: str, mutate: Callable[[dict], None], error: type[VerificationError]
) -> None:
    doc = load(fisco_dir, "header_4sealers.json")
    mutate(doc)
    with pytest.raises(VerificationError) as caught:
        verify_header(decode_header(doc))
    assert type(caught.value) is error, f"{row}: {caught.value!r}"
    assert caught.value.code == error.code


def test_a_sealer_key_swapped_in_the_trust_is_refused(fisco_dir: Path) -> None:
    header = decode_header(load(fisco_dir, "header_4sealers.json"))
    trusted = list(header.sealer_list)
    trusted[1] = bytes(64)
    with pytest.raises(E.SealerListMismatch):
        verify_header(header, trusted)


def _real_proof(fisco_dir: Path) -> tuple[int, bytes, list, bytes]:
    doc = load(fisco_dir, "txproof.json")
    return (
        int(doc["transactionIndex"], 16),
        bytes.fromhex(doc["txHash"][2:]),
        decode_proof(doc["txProof"]),
        bytes.fromhex(doc["transactionsRoot"][2:]),
    )


def _step(proof: list) -> None:
    left = list(proof[0][0])
    left[0] = left[0][:-1] + bytes([left[0][-1] ^ 1])
    proof[0] = (left, proof[0][1])


def _index(proof: list) -> None:
    proof[0] = (proof[0][0][:1], [*proof[0][0][1:], *proof[0][1]])


def _extra_step(proof: list) -> None:
    proof.append(([], []))


def _sibling_order(proof: list) -> None:
    proof[0] = (proof[0][0][::-1], proof[0][1])


PROOF_ROWS: list[tuple[str, Callable[[list], None], int, bytes | None, type]] = [
    ("a proof step", _step, 2, None, E.ProofRootMismatch),
    ("the index", lambda p: None, 3, None, E.BadMerkleProof),
    ("the node moved in its group", _index, 2, None, E.BadMerkleProof),
    ("a step past the top", _extra_step, 2, None, E.BadMerkleProof),
    ("siblings reordered", _sibling_order, 2, None, E.BadMerkleProof),
    ("one byte of the tx hash", lambda p: None, 2, b"\x00" * 32, E.ProofRootMismatch),
]


@pytest.mark.parametrize(
    ("row", "mutate", "index", "tx_hash", "error"), PROOF_ROWS, ids=[r[0] for r in PROOF_ROWS]
)
def test_malleated_real_proof_is_refused(
    fisco_dir: Path,
    row: str,
    mutate: Callable[[list], None],
    index: int,
    tx_hash: bytes | None,
    error: type[VerificationError],
) -> None:
    _, real_hash, proof, root = _real_proof(fisco_dir)
    mutate(proof)
    with pytest.raises(VerificationError) as caught:
        verify_merkle_proof(index, tx_hash or real_hash, proof, root)
    assert type(caught.value) is error, f"{row}: {caught.value!r}"


# --- trees and sealer changes built by the same rules ------------------------------------


def test_built_tree_reproduces_the_real_proof_shape(fisco_dir: Path) -> None:
    """Five leaves: the proof of index 2 has two left and two right leaves, then the top."""
    index, tx_hash, proof, _ = _real_proof(fisco_dir)
    hashes = [keccak256(bytes([i])) for i in range(5)]
    hashes[index] = tx_hash
    built = compute_merkle_proof(hashes, index)
    assert [(len(left), len(right)) for left, right in built] == [(2, 2), (0, 0)]
    assert [(len(left), len(right)) for left, right in proof] == [(2, 2), (0, 0)]


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 40, 300])
def test_multi_level_trees_prove_every_sampled_index(n: int) -> None:
    hashes = [keccak256(i.to_bytes(4, "big")) for i in range(n)]
    root = compute_merkle_root(hashes)
    for index in sorted({0, 1, n // 2, n - 1} & set(range(n))):
        proof = compute_merkle_proof(hashes, index)
        verify_merkle_proof(index, hashes[index], proof, root)
        if n > 1:
            with pytest.raises((E.BadMerkleProof, E.ProofRootMismatch)):
                verify_merkle_proof((index + 1) % n, hashes[index], proof, root)


def test_receipt_proof_uses_the_same_tree() -> None:
    receipts = [keccak256(b"receipt" + bytes([i])) for i in range(20)]
    root = compute_merkle_root(receipts)
    verify_merkle_proof(17, receipts[17], compute_merkle_proof(receipts, 17), root)


KEYS = [coincurve.PrivateKey(keccak256(b"sealer" + bytes([i]))) for i in range(6)]


def pub(key: coincurve.PrivateKey) -> bytes:
    return key.public_key.format(compressed=False)[1:]


def make_header(number: int, parent: bytes, sealers: list[int], signers: list[int]) -> Header:
    unsigned = Header(
        parent_hash=parent, state_root=bytes(32), transactions_root=bytes(32),
        receipts_root=bytes(32), db_hash=bytes(32), logs_bloom=bytes(256), number=number,
        gas_limit=0, gas_used=0, timestamp=1_600_000_000_000 + number, extra_data=(),
        sealer=0, sealer_list=tuple(pub(KEYS[i]) for i in sealers), hash=bytes(32),
        signatures=(),
    )  # fmt: skip
    block_hash = compute_header_hash(unsigned)
    signatures = tuple(
        (sealers.index(k), KEYS[k].sign_recoverable(block_hash, hasher=None)) for k in signers
    )
    return dataclasses.replace(unsigned, hash=block_hash, signatures=signatures)


def test_sealer_list_change_needs_the_old_quorum() -> None:
    genesis = HeaderUpdate(0, b"\x01" * 32, tuple(pub(KEYS[i]) for i in range(4)))
    h1 = make_header(1, genesis.hash, [0, 1, 2, 3], [0, 1, 2])
    s1 = update_client(genesis, h1)
    # sealer 4 joins: the first header under 5 sealers signed by 4 (quorum 4), 3 of them old
    h2 = make_header(2, s1.hash, [0, 1, 2, 3, 4], [0, 1, 2, 4])
    s2 = update_client(s1, h2)
    assert len(s2.sealers) == 5
    # a list of fresh sealers signed only by themselves is refused
    h2_forged = make_header(2, s1.hash, [3, 4, 5], [3, 4, 5])
    with pytest.raises(E.UnendorsedSealerChange):
        update_client(s1, h2_forged)


@pytest.mark.parametrize(
    ("row", "number", "parent", "error"),
    [
        ("number not above", 1, b"\x01" * 32, E.NonIncreasingNumber),
        ("parent hash", 2, b"\x02" * 32, E.ParentMismatch),
    ],
)
def test_light_client_refusals(row: str, number: int, parent: bytes, error: type) -> None:
    trusted = HeaderUpdate(
        number - 1 if number == 2 else 1, b"\x01" * 32, tuple(pub(KEYS[i]) for i in range(4))
    )
    header = make_header(number, parent, [0, 1, 2, 3], [0, 1, 2])
    with pytest.raises(error):
        update_client(trusted, header)


def test_built_root_equals_the_real_root_from_the_proofs_leaves(fisco_dir: Path) -> None:
    """The proof's level 0 lists every transaction of its 5-transaction block, so the
    block's whole tree is known: the builder's root over them is the node's root."""
    index, tx_hash, proof, root = _real_proof(fisco_dir)
    left, right = proof[0]
    hashes = [leaf[1:] for leaf in left] + [tx_hash] + [leaf[1:] for leaf in right]
    assert len(hashes) == 5
    assert compute_merkle_root(hashes) == root
    assert compute_merkle_proof(hashes, index) == proof

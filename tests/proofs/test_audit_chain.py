"""The audit hash chain's rules (``proofs/audit.py``): canonical bytes, links, checkpoints.

A valid chain of five entries is built by the rules themselves, then broken one
way per row (malleate): each row must be refused at the exact entry that was
broken, with the exact reason.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from core.errors import InvalidInput
from proofs.audit import (
    GENESIS,
    AuditBroken,
    ChainHead,
    canonical_bytes,
    compute_entry_hash,
    is_checkpoint_signed_by,
    sign_checkpoint,
    signer_address,
    validate_chain,
)

SECRET = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


def _entry(seq: int, **over: Any) -> dict[str, Any]:
    entry = {
        "v": 1,
        "seq": seq,
        "at_ms": 1_700_000_000_000 + seq,
        "actor": "ops",
        "role": "admin",
        "request_id": f"req-{seq}",
        "action": "transfer.transition",
        "subject": "transfer",
        "subject_id": f"tr_{seq}",
        "before": {"state": "proven"},
        "after": {"state": "attested"},
        "reason": "quorum",
    }
    entry.update(over)
    return entry


def build(n: int = 5) -> list[dict[str, Any]]:
    out, prev = [], GENESIS
    for seq in range(1, n + 1):
        entry = _entry(seq)
        digest = compute_entry_hash(entry, prev)
        out.append({**entry, "prev": prev.hex(), "hash": digest.hex()})
        prev = digest
    return out


def test_a_valid_chain_verifies_to_its_last_hash() -> None:
    chain = build()
    head = validate_chain(chain)
    assert head == ChainHead(5, bytes.fromhex(chain[-1]["hash"]))


def test_the_entry_hash_is_sha256_of_the_rfc8785_bytes_then_the_previous_hash() -> None:
    entry = _entry(1, before=None, reason="é ✓")
    body = canonical_bytes(entry)
    assert body.startswith(b'{"action":"transfer.transition","actor":"ops","after":')
    assert '"reason":"é ✓"'.encode() in body  # UTF-8, not \\u escapes
    assert compute_entry_hash(entry, GENESIS) == hashlib.sha256(body + GENESIS).digest()


@pytest.mark.parametrize(
    "value", [1.5, 2**53, {1: "x"}, b"raw"], ids=["float", "big-int", "int-key", "bytes"]
)
def test_values_rfc8785_cannot_render_exactly_are_refused(value: object) -> None:
    with pytest.raises(InvalidInput):
        canonical_bytes(_entry(1, after={"x": value}))


def _remove(i: int) -> Callable[[list[dict[str, Any]]], None]:
    return lambda chain: chain.pop(i)


def _swap(i: int, j: int) -> Callable[[list[dict[str, Any]]], None]:
    def apply(chain: list[dict[str, Any]]) -> None:
        chain[i], chain[j] = chain[j], chain[i]

    return apply


def _set(i: int, field: str, value: Any) -> Callable[[list[dict[str, Any]]], None]:
    def apply(chain: list[dict[str, Any]]) -> None:
        chain[i][field] = value

    return apply


def _insert_forged(chain: list[dict[str, Any]]) -> None:
    """A well-formed entry 3 linked to entry 2, inserted before the real entry 3."""
    forged = _entry(3, actor="mallory")
    prev = bytes.fromhex(chain[1]["hash"])
    chain.insert(2, {**forged, "prev": prev.hex(), "hash": compute_entry_hash(forged, prev).hex()})


def _rehash_changed(chain: list[dict[str, Any]]) -> None:
    """Entry 2 changed and its hash recomputed: entry 3's prev no longer links."""
    chain[1]["after"] = {"state": "completed"}
    prev = bytes.fromhex(chain[0]["hash"])
    chain[1]["hash"] = compute_entry_hash(chain[1], prev).hex()


MALLEATE: list[tuple[str, Callable[[list[dict[str, Any]]], None], int, str]] = [
    ("first entry removed", _remove(0), 1, "out-of-order"),
    ("middle entry removed", _remove(2), 3, "out-of-order"),
    ("two entries reordered", _swap(1, 2), 2, "out-of-order"),
    ("entry inserted", _insert_forged, 4, "out-of-order"),
    ("actor changed", _set(1, "actor", "someone-else"), 2, "hash-mismatch"),
    ("after changed", _set(3, "after", {"state": "refunded"}), 4, "hash-mismatch"),
    ("time changed", _set(4, "at_ms", 1), 5, "hash-mismatch"),
    ("changed and rehashed", _rehash_changed, 3, "prev-mismatch"),
    ("prev rewritten", _set(2, "prev", "00" * 32), 3, "prev-mismatch"),
    ("hash not hex", _set(2, "hash", "zz"), 3, "malformed"),
]


@pytest.mark.parametrize(
    ("mutate", "bad_seq", "reason"),
    [row[1:] for row in MALLEATE],
    ids=[row[0] for row in MALLEATE],
)
def test_a_tampered_chain_is_refused_at_the_first_bad_entry(
    mutate: Callable[[list[dict[str, Any]]], None], bad_seq: int, reason: str
) -> None:
    chain = copy.deepcopy(build())
    mutate(chain)
    with pytest.raises(AuditBroken) as caught:
        validate_chain(chain)
    assert caught.value.details["seq"] == bad_seq
    assert caught.value.details["reason"] == reason


def test_a_chain_missing_a_field_is_malformed_at_that_entry() -> None:
    chain = build()
    del chain[3]["request_id"]
    with pytest.raises(AuditBroken) as caught:
        validate_chain(chain)
    assert caught.value.details["seq"] == 4


def test_a_checkpoint_verifies_for_its_signer_only_and_only_for_its_head() -> None:
    head = bytes.fromhex(build()[-1]["hash"])
    signature = sign_checkpoint(SECRET, 5, head, 1234)
    signer = signer_address(SECRET)
    assert is_checkpoint_signed_by(signer, 5, head, 1234, signature)
    assert not is_checkpoint_signed_by(b"\x01" * 20, 5, head, 1234, signature)
    assert not is_checkpoint_signed_by(signer, 4, head, 1234, signature)
    assert not is_checkpoint_signed_by(signer, 5, GENESIS, 1234, signature)
    assert not is_checkpoint_signed_by(signer, 5, head, 1235, signature)
    assert not is_checkpoint_signed_by(signer, 5, head, 1234, signature[:-1])

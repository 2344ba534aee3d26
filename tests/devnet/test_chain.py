"""Blocks as a light client sees them: linked headers, verifying commits, provable events
and state (membership and absence), restart, hash profiles, and the fault modes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import rlp

import proofs.bls as bls
from core.errors import ConfigError, InvalidInput, NotFound
from devnet.state import StateTree, balance_key, nonce_key, state_leaf
from proofs import merkle
from proofs.hashing import SHA256
from proofs.pujiang import codec
from tests.devnet.test_bridge import foreign_packet, recv, send
from tests.fixtures.devnet_chain import OTHER, START_MS, Chain, make_chain


def unhex(text: object) -> bytes:
    assert isinstance(text, str)
    assert text.startswith("0x")
    return bytes.fromhex(text[2:])


def verify_block(chain: Chain, height: int) -> codec.Header:
    """What a light client checks of one block, in the documented order."""
    block = chain.node.query_block(height)
    header = codec.decode_header(unhex(block["header"]))
    commit = codec.decode_commit(unhex(block["commit"]))
    header_hash = codec.compute_header_hash(header, chain.hash_fn)
    assert unhex(block["hash"]) == header_hash
    assert commit.height == header.height == height
    assert commit.header_hash == header_hash
    answer = chain.node.query_validators(height)
    validators = codec.decode_validator_set(unhex(answer["validators"]))
    assert codec.compute_validators_hash(validators, chain.hash_fn) == header.validators_hash
    assert all(bls.pop_verify(v.bls_pubkey, v.pop) for v in validators)
    signers = codec.decode_signers(commit.signers, len(validators))
    power = sum(validators[i].power for i in signers)
    assert codec.has_quorum(power, sum(v.power for v in validators))
    payload = codec.compute_commit_signing_payload(
        header.chain_id, header.height, commit.round, header_hash
    )
    pubkeys = [validators[i].bls_pubkey for i in signers]
    assert bls.fast_aggregate_verify(pubkeys, payload, commit.aggregate_signature)
    return header


def verify_state(chain: Chain, key: bytes, height: int | None = None) -> bytes | None:
    proof = chain.node.query_state_proof(key, height)
    header = chain.node.header(proof["height"])  # type: ignore[arg-type]

    def check(entry: dict[str, object]) -> None:
        merkle.verify_inclusion(
            state_leaf(unhex(entry["key"]), unhex(entry["value"])),
            entry["index"],  # type: ignore[arg-type]
            header.state_size,
            [unhex(p) for p in entry["path"]],  # type: ignore[attr-defined]
            header.state_root,
            hash_fn=chain.hash_fn,
        )

    if proof["value"] is not None:
        check(proof)
        return unhex(proof["value"])
    left, right = proof["left"], proof["right"]
    assert left is not None or right is not None
    if left is not None:
        check(left)  # type: ignore[arg-type]
        assert unhex(left["key"]) < key  # type: ignore[index]
    if right is not None:
        check(right)  # type: ignore[arg-type]
        assert key < unhex(right["key"])  # type: ignore[index]
    if left is not None and right is not None:
        assert right["index"] == left["index"] + 1  # type: ignore[index,operator]
    elif left is not None:
        assert left["index"] == header.state_size - 1  # type: ignore[index]
    else:
        assert right["index"] == 0  # type: ignore[index]
    return None


def busy_block(chain: Chain) -> None:
    """A block with transfers, a packet, a receive and a failed tx."""
    chain.run(
        chain.sign(0, "transfer", [chain.address(1), b"upj", 5]),
        chain.sign(
            1, "bridge_send", [OTHER.encode(), b"\x01" * 20, b"ucny", 9, 0, START_MS + 10**6]
        ),
        chain.sign(2, "transfer", [chain.address(0), b"upj", 10**18]),
    )
    recv(chain, foreign_packet(chain, amount=3))


def test_genesis_block_and_status(chain: Chain) -> None:
    status = chain.node.query_status()
    assert status["chain_id"] == "pj-test"
    assert status["hash_profile"] == "sha256"
    assert status["latest_height"] == 1
    assert unhex(status["genesis_hash"]) == chain.node.genesis.hash()
    header = verify_block(chain, 1)
    assert header.parent_hash == codec.ZERO_HASH
    assert header.last_commit_hash == codec.ZERO_HASH
    assert header.time_ms == START_MS
    assert header.tx_count == 0


def test_headers_link_and_every_commit_verifies(chain: Chain) -> None:
    busy_block(chain)
    chain.clock.advance(5)
    chain.node.produce_block()
    previous = verify_block(chain, 1)
    for height in range(2, chain.node.height + 1):
        header = verify_block(chain, height)
        assert header.parent_hash == codec.compute_header_hash(previous, chain.hash_fn)
        last_commit = chain.node.commit(height - 1)
        assert header.last_commit_hash == codec.compute_commit_hash(last_commit, chain.hash_fn)
        assert header.time_ms > previous.time_ms
        previous = header


def test_tx_root_commits_to_the_included_transactions(chain: Chain) -> None:
    busy_block(chain)
    header = chain.node.header(2)
    raws = chain.node.store.block_txs(2)
    assert header.tx_count == len(raws) == 3
    assert merkle.merkle_root(raws, hash_fn=chain.hash_fn) == header.tx_root


def test_every_event_proves_against_events_root_and_count(chain: Chain) -> None:
    busy_block(chain)
    events = chain.node.query_events(1, chain.node.height)["events"]
    assert [e["kind"] for e in events] == ["send_packet", "recv_packet"]  # type: ignore[index]
    for event in events:  # type: ignore[attr-defined]
        header = chain.node.header(event["height"])
        proof = chain.node.query_event_proof(event["height"], event["index"])
        assert proof["event"] == event["event"]
        merkle.verify_inclusion(
            unhex(proof["event"]),
            proof["index"],  # type: ignore[arg-type]
            header.event_count,
            [unhex(p) for p in proof["path"]],  # type: ignore[attr-defined]
            header.events_root,
            hash_fn=chain.hash_fn,
        )
    with pytest.raises(NotFound):
        chain.node.query_event_proof(2, 5)


def test_events_filter_by_kind_and_destination(chain: Chain) -> None:
    busy_block(chain)
    send(chain, dest=b"other-2")
    node = chain.node
    kinds = [e["kind"] for e in node.query_events(1, 10, kind="send_packet")["events"]]  # type: ignore[index]
    assert kinds == ["send_packet", "send_packet"]
    to_evm = node.query_events(1, 10, dest_chain="evm-1")["events"]
    assert len(to_evm) == 1
    assert to_evm[0]["attributes"]["dest_chain"] == "evm-1"
    assert len(node.query_events(1, 10, limit=1)["events"]) == 1  # type: ignore[arg-type]
    for bad in ({"first": 5, "last": 4}, {"first": 1, "last": 1002}, {"first": 1, "limit": 1001}):
        with pytest.raises(InvalidInput):
            node.query_events(**bad)  # type: ignore[arg-type]


def test_state_membership_and_absence_prove_against_state_root(chain: Chain) -> None:
    busy_block(chain)
    alice = chain.address(0)
    assert verify_state(chain, nonce_key(alice)) == b"\x01"
    balance = verify_state(chain, balance_key(chain.address(1), b"evm-1/uusdc"))
    assert balance == b"\x03"
    assert verify_state(chain, balance_key(alice, b"gold")) is None  # between two leaves
    assert verify_state(chain, b"\x00") is None  # before the first leaf
    assert verify_state(chain, b"\xff" * 8) is None  # after the last leaf


def test_state_proofs_at_past_heights_use_that_heights_root(chain: Chain) -> None:
    key = balance_key(chain.address(1), b"upj")
    before = verify_state(chain, key, 1)
    busy_block(chain)
    chain.node.produce_block()
    assert verify_state(chain, key, 1) == before
    assert int.from_bytes(verify_state(chain, key, 2) or b"", "big") == 10**15 + 5
    assert verify_state(chain, nonce_key(chain.address(0)), 1) is None
    with pytest.raises(NotFound):
        chain.node.query_state_proof(key, 99)


def test_restart_continues_with_identical_blocks_and_state(tmp_path: Path) -> None:
    chain = make_chain(tmp_path / "n")
    busy_block(chain)
    blocks = [chain.node.query_block(h) for h in range(1, chain.node.height + 1)]
    root = chain.node.tip.header.state_root
    chain.node.close()
    again = make_chain(tmp_path / "n", clock=chain.clock)
    try:
        assert [again.node.query_block(h) for h in range(1, len(blocks) + 1)] == blocks
        assert again.node.tip.header.state_root == root
        tip = again.node.produce_block()
        assert tip.height == len(blocks) + 1
        assert tip.header.parent_hash == unhex(blocks[-1]["hash"])
        verify_block(again, tip.height)
        again.run1(0, "transfer", [again.address(1), b"upj", 1])  # nonce 1 continues
        assert again.node.committed_nonce(again.address(0)) == 2
    finally:
        again.node.close()


def test_restart_refuses_options_that_contradict_the_genesis(tmp_path: Path) -> None:
    make_chain(tmp_path / "n").node.close()
    with pytest.raises(ConfigError, match="validators"):
        make_chain(tmp_path / "n", validators=7, explicit=frozenset({"validators"}))


def test_restart_refuses_a_damaged_state(tmp_path: Path) -> None:
    chain = make_chain(tmp_path / "n")
    chain.run1(0, "transfer", [chain.address(1), b"upj", 1])
    key = nonce_key(chain.address(0))
    chain.node.store._writer.execute("UPDATE state SET value = x'05' WHERE key = ?", (key,))
    chain.node.close()
    with pytest.raises(ConfigError, match="damaged"):
        make_chain(tmp_path / "n")


def test_sm3_profile_hashes_everything_with_sm3(chain_factory) -> None:  # type: ignore[no-untyped-def]
    chain = chain_factory(hash_profile="sm3", validators=3)
    assert chain.node.hash_fn.name == "sm3"
    busy_block(chain)
    header = verify_block(chain, 2)
    assert chain.node.query_status()["hash_profile"] == "sm3"
    assert chain.address(0) == codec.compute_address(chain.accounts[0].pubkey, chain.hash_fn)
    assert header.events_root == merkle.merkle_root(
        [unhex(e["event"]) for e in chain.node.query_events(2, 2)["events"]],  # type: ignore[index]
        hash_fn=chain.hash_fn,
    )
    assert verify_state(chain, nonce_key(chain.address(0))) == b"\x01"


def test_equivocation_gives_a_second_valid_header_at_one_height(chain: Chain) -> None:
    busy_block(chain)
    header, commit = chain.node.equivocate(2)
    stored = chain.node.header(2)
    forged_hash = codec.compute_header_hash(header, chain.hash_fn)
    assert header.height == 2
    assert forged_hash != codec.compute_header_hash(stored, chain.hash_fn)
    assert commit.header_hash == forged_hash
    validators = chain.node.validators(2)
    payload = codec.compute_commit_signing_payload(header.chain_id, 2, commit.round, forged_hash)
    signers = codec.decode_signers(commit.signers, len(validators))
    assert bls.fast_aggregate_verify(
        [validators[i].bls_pubkey for i in signers], payload, commit.aggregate_signature
    )
    partial_header, partial = chain.node.equivocate(signers=[0, 1, 2], round_=1)
    assert codec.decode_signers(partial.signers, 4) == [0, 1, 2]
    assert partial.round == 1
    assert chain.node.header(chain.node.height) != partial_header  # nothing stored
    with pytest.raises(NotFound):
        chain.node.equivocate(99)


def test_offline_validators_leave_the_commit_bitmap_but_keep_quorum(chain: Chain) -> None:
    assert chain.node.set_offline([3]) == [3]
    tip = chain.node.produce_block()
    assert codec.decode_signers(tip.commit.signers, 4) == [0, 1, 2]
    verify_block(chain, tip.height)
    with pytest.raises(InvalidInput):
        chain.node.set_offline([2, 3])


def test_state_tree_matches_rfc6962_after_any_changes() -> None:
    rnd = random.Random(7)
    items = {rnd.randbytes(4): rnd.randbytes(3) for _ in range(37)}
    tree = StateTree(SHA256, items)
    for step in range(40):
        changes: dict[bytes, bytes | None] = {}
        for key in rnd.sample(sorted(items), 3):
            changes[key] = None if step % 3 == 0 else rnd.randbytes(2)
        if step % 2:
            changes[rnd.randbytes(4)] = b"new"
        tree.apply(changes)
        for key, value in changes.items():
            if value is None:
                items.pop(key)
            else:
                items[key] = value
        leaves = [rlp.encode([k, items[k]]) for k in sorted(items)]
        assert tree.root == merkle.merkle_root(leaves)
        index = rnd.randrange(len(leaves))
        assert tree.audit_path(index) == merkle.inclusion_proof(leaves, index)
    assert StateTree(SHA256).root == merkle.empty_root()

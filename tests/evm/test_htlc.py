"""HashedTimelock: lock, claim with the sha256 preimage before the timelock, refund after it."""

from __future__ import annotations

import hashlib

from eth_abi import encode
from eth_hash.auto import keccak

from tests.evm.chain import Receipt
from tests.fixtures.anvil import CHAIN_ID, Env

SECRET = hashlib.sha256(b"swap secret").digest()
HASHLOCK = hashlib.sha256(SECRET).digest()
NATIVE = "0x" + "00" * 20
ETHER = 10**18


def _lock_id(receipt: Receipt) -> bytes:
    (event,) = receipt.named("Locked")
    return event.args["id"]


def test_lock_native_then_claim_pays_the_receiver_and_reveals_the_preimage(env: Env) -> None:
    timelock = env.chain.timestamp() + 600
    receipt = env.htlc.transact(
        "lock", env.bob, HASHLOCK, timelock, NATIVE, ETHER, sender=env.alice, value=ETHER
    )
    lock_id = _lock_id(receipt)
    terms = (env.alice, env.bob, HASHLOCK, timelock, NATIVE, ETHER)
    expected = keccak(
        encode(
            ["uint256", "address", "address", "address", "bytes32", "uint64", "address", "uint256"],
            [CHAIN_ID, env.htlc.address, *terms],
        )
    )
    assert lock_id == expected == env.htlc.view("computeId", *terms)
    bob_before = env.chain.balance(env.bob)

    claimed = env.htlc.transact("claim", lock_id, SECRET, sender=env.relayer)

    (event,) = claimed.named("Claimed")
    assert event.args["preimage"] == SECRET
    assert env.chain.balance(env.bob) == bob_before + ETHER
    assert env.htlc.view("locks", lock_id)[-1] == 2  # State.Claimed
    assert (
        env.htlc.revert_reason("claim", lock_id, SECRET, sender=env.relayer) == "HTLC: not locked"
    )
    assert env.htlc.revert_reason("refund", lock_id, sender=env.relayer) == "HTLC: not locked"


def test_claim_with_a_wrong_preimage_is_rejected(env: Env) -> None:
    timelock = env.chain.timestamp() + 600
    lock_id = _lock_id(
        env.htlc.transact("lock", env.bob, HASHLOCK, timelock, NATIVE, 5, sender=env.alice, value=5)
    )
    wrong = hashlib.sha256(b"guess").digest()
    assert env.htlc.revert_reason("claim", lock_id, wrong, sender=env.bob) == "HTLC: wrong preimage"
    assert (
        env.htlc.revert_reason("claim", lock_id, HASHLOCK, sender=env.bob) == "HTLC: wrong preimage"
    )


def test_token_lock_refunds_only_after_the_timelock_and_cannot_be_claimed_then(env: Env) -> None:
    timelock = env.chain.timestamp() + 600
    env.token.transact("approve", env.htlc.address, 300, sender=env.alice)
    before = env.token.view("balanceOf", env.alice)
    lock_id = _lock_id(
        env.htlc.transact(
            "lock", env.bob, HASHLOCK, timelock, env.token.address, 300, sender=env.alice
        )
    )
    assert env.token.view("balanceOf", env.htlc.address) == 300
    assert (
        env.htlc.revert_reason("refund", lock_id, sender=env.alice) == "HTLC: timelock not expired"
    )

    env.chain.increase_time(601)

    assert (
        env.htlc.revert_reason("claim", lock_id, SECRET, sender=env.bob) == "HTLC: timelock expired"
    )
    refunded = env.htlc.transact("refund", lock_id, sender=env.relayer)
    assert refunded.named("Refunded")[0].args["id"] == lock_id
    assert env.token.view("balanceOf", env.alice) == before
    assert env.token.view("balanceOf", env.htlc.address) == 0


def test_lock_rejects_bad_terms(env: Env) -> None:
    now = env.chain.timestamp()
    later = now + 600
    env.htlc.transact("lock", env.bob, HASHLOCK, later, NATIVE, 7, sender=env.alice, value=7)

    duplicate = env.htlc.revert_reason(
        "lock", env.bob, HASHLOCK, later, NATIVE, 7, sender=env.alice, value=7
    )
    past = env.htlc.revert_reason(
        "lock", env.bob, HASHLOCK, now, NATIVE, 7, sender=env.alice, value=7
    )
    short = env.htlc.revert_reason(
        "lock", env.bob, HASHLOCK, later + 1, NATIVE, 7, sender=env.alice, value=6
    )
    assert duplicate == "HTLC: lock already exists"
    assert past == "HTLC: timelock not in the future"
    assert short == "HTLC: value differs from amount"

"""Validator-set changes: the h+1 announcement / h+2 signing rule and every rejection."""

from __future__ import annotations

import pytest

import proofs.bls as bls
from devnet import keys
from devnet.genesis import decode_valset_value
from devnet.state import VALSET_KEY
from devnet.txs import Reason
from proofs.pujiang import codec
from tests.devnet.test_transactions import reason_of
from tests.fixtures.devnet_chain import Chain

NEW = {0: 10, 1: 10, 2: 10, 4: 25}


def update_args(
    chain: Chain,
    new_set: list[codec.Validator],
    *,
    epoch: int = 1,
    signers: list[int] | None = None,
    signed_epoch: int | None = None,
) -> list[object]:
    node = chain.node
    current = node.validators(node.height + 1)
    indices = list(range(len(current))) if signers is None else signers
    args = keys.sign_valset_update(
        chain.chain_id,
        epoch if signed_epoch is None else signed_epoch,
        new_set,
        current,
        node.keyring.secrets,
        indices,
        chain.hash_fn,
    )
    args[0] = epoch
    return args


def verify_commit(chain: Chain, height: int) -> list[codec.Validator]:
    header, commit = chain.node.header(height), chain.node.commit(height)
    validators = chain.node.validators(height)
    assert header.validators_hash == codec.compute_validators_hash(validators, chain.hash_fn)
    signers = codec.decode_signers(commit.signers, len(validators))
    payload = codec.compute_commit_signing_payload(
        header.chain_id, height, commit.round, commit.header_hash
    )
    keys_ = [validators[i].bls_pubkey for i in signers]
    assert bls.fast_aggregate_verify(keys_, payload, commit.aggregate_signature)
    return validators


def test_update_is_announced_at_h_plus_1_and_signs_from_h_plus_2(chain: Chain) -> None:
    old = chain.node.validators(2)
    new_set = chain.node.keyring.make_set(NEW)
    receipt = chain.run1(0, "validator_update", update_args(chain, new_set))  # block 2
    assert receipt["status"] == "committed", receipt["reason"]
    event = receipt["events"][0]  # type: ignore[index]
    assert event["kind"] == "validator_set_changed"
    assert event["attributes"]["effective_height"] == 4
    old_hash = codec.compute_validators_hash(old, chain.hash_fn)
    new_hash = codec.compute_validators_hash(new_set, chain.hash_fn)
    for _ in range(3):
        chain.node.produce_block()
    h2, h3, h4, h5 = (chain.node.header(h) for h in (2, 3, 4, 5))
    assert (h2.validators_hash, h2.next_validators_hash) == (old_hash, old_hash)
    assert (h3.validators_hash, h3.next_validators_hash) == (old_hash, new_hash)
    assert (h4.validators_hash, h4.next_validators_hash) == (new_hash, new_hash)
    assert h5.validators_hash == new_hash
    assert verify_commit(chain, 3) == old
    assert verify_commit(chain, 4) == new_set
    epoch, stored = decode_valset_value(chain.node.state_value(VALSET_KEY) or b"")
    assert (epoch, stored) == (1, new_set)


def test_a_second_update_waits_until_the_first_signs(chain: Chain) -> None:
    first = chain.node.keyring.make_set(NEW)
    chain.run1(0, "validator_update", update_args(chain, first))  # block 2, signs from 4
    second = chain.node.keyring.make_set({5: 10, 6: 10, 7: 10})
    receipt = chain.run1(0, "validator_update", update_args(chain, second, epoch=2))  # block 3
    assert reason_of(receipt) == Reason.VALSET_PENDING
    # Block 4 is signed by the first update's set, which now authorises the next one.
    receipt = chain.run1(0, "validator_update", update_args(chain, second, epoch=2))
    assert receipt["status"] == "committed", receipt["reason"]
    chain.node.produce_block()
    chain.node.produce_block()
    assert verify_commit(chain, 6) == second


def test_update_with_a_bitmap_of_less_than_two_thirds_is_refused(chain: Chain) -> None:
    new_set = chain.node.keyring.make_set(NEW)
    receipt = chain.run1(0, "validator_update", update_args(chain, new_set, signers=[0, 1]))
    assert reason_of(receipt) == Reason.INSUFFICIENT_POWER


def test_update_three_of_four_is_enough(chain: Chain) -> None:
    new_set = chain.node.keyring.make_set(NEW)
    receipt = chain.run1(0, "validator_update", update_args(chain, new_set, signers=[0, 2, 3]))
    assert receipt["status"] == "committed"


def _foreign_validator() -> codec.Validator:
    secret = bls.keygen(b"\x33" * 32)
    return codec.Validator(bls_pubkey=bls.sk_to_pk(secret), power=10, pop=bls.pop_prove(secret))


@pytest.mark.parametrize(
    "case",
    ["wrong epoch", "signed for another epoch", "unknown key", "bad pop", "unsorted", "bitmap"],
)
def test_update_rejections(chain: Chain, case: str) -> None:
    ring = chain.node.keyring
    new_set = ring.make_set(NEW)
    kwargs: dict[str, object] = {}
    expected = {
        "wrong epoch": Reason.WRONG_EPOCH,
        "signed for another epoch": Reason.BAD_SIGNATURE,
        "unknown key": Reason.UNKNOWN_VALIDATOR_KEY,
        "bad pop": Reason.BAD_VALIDATOR_SET,
        "unsorted": Reason.BAD_VALIDATOR_SET,
        "bitmap": Reason.BAD_ARGS,
    }[case]
    if case == "wrong epoch":
        kwargs["epoch"] = 2
    elif case == "signed for another epoch":
        kwargs["signed_epoch"] = 7
    elif case == "unknown key":
        new_set = sorted([*new_set, _foreign_validator()], key=lambda v: v.bls_pubkey)
    elif case == "bad pop":
        new_set = [new_set[0].copy(pop=new_set[1].pop), *new_set[1:]]
    elif case == "unsorted":
        new_set = list(reversed(new_set))
    args = update_args(chain, new_set, **kwargs)  # type: ignore[arg-type]
    if case == "bitmap":
        args[2] = b"\x0f\x00"
    receipt = chain.run1(0, "validator_update", args)
    assert reason_of(receipt) == expected, receipt["reason"]
    assert decode_valset_value(chain.node.state_value(VALSET_KEY) or b"")[0] == 0

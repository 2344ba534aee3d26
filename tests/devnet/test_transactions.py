"""Transactions: admission checks, nonces, transfers, and every generic rejection reason."""

from __future__ import annotations

import pytest
import rlp

from core.errors import BadSignature, Conflict, InvalidInput
from devnet import keys
from devnet.txs import MAX_TX_BYTES, Reason, TxRejected, core_error
from proofs.pujiang import codec
from tests.fixtures.devnet_chain import Chain


def reason_of(receipt: dict[str, object]) -> str:
    return str(receipt["reason"]).split(":")[0]


def test_transfer_moves_one_denom_and_advances_the_nonce(chain: Chain) -> None:
    receipt = chain.run1(0, "transfer", [chain.address(1), b"upj", 250])
    assert receipt["status"] == "committed"
    assert receipt["height"] == 2
    assert receipt["index"] == 0
    assert chain.balance(1, "upj") == 10**15 + 250
    assert chain.balance(0, "upj") == 10**15 - 250
    assert chain.balance(1, "ucny") == 10**12  # the other asset is untouched
    assert chain.node.committed_nonce(chain.address(0)) == 1


def test_transfer_to_a_fresh_address_creates_its_balance(chain: Chain) -> None:
    fresh = bytes(range(20))
    chain.run1(0, "transfer", [fresh, b"ucny", 7])
    assert chain.node.query_account(fresh)["balances"] == {"ucny": "7"}


def test_several_transactions_of_one_sender_fit_one_block_in_nonce_order(chain: Chain) -> None:
    txs = [chain.sign(0, "transfer", [chain.address(1), b"upj", 1]) for _ in range(5)]
    receipts = chain.run(*txs)
    assert [r["index"] for r in receipts] == [0, 1, 2, 3, 4]
    assert chain.node.header(2).tx_count == 5


def test_insufficient_funds_fails_in_the_block_but_spends_the_nonce(chain: Chain) -> None:
    receipt = chain.run1(0, "transfer", [chain.address(1), b"upj", 10**15 + 1])
    assert receipt["status"] == "failed"
    assert reason_of(receipt) == Reason.INSUFFICIENT_FUNDS
    assert receipt["height"] == 2  # included: the tx root holds it
    assert chain.node.header(2).tx_count == 1
    assert chain.node.committed_nonce(chain.address(0)) == 1
    assert chain.balance(0, "upj") == 10**15


def test_unknown_denom_is_insufficient_funds(chain: Chain) -> None:
    receipt = chain.run1(0, "transfer", [chain.address(1), b"gold", 1])
    assert reason_of(receipt) == Reason.INSUFFICIENT_FUNDS


def test_wrong_nonce_is_excluded_from_the_block(chain: Chain) -> None:
    tx = chain.sign(0, "transfer", [chain.address(1), b"upj", 1], nonce=3)
    receipt = chain.run(tx)[0]
    assert receipt["status"] == "failed"
    assert reason_of(receipt) == Reason.WRONG_NONCE
    assert receipt["height"] is None
    assert chain.node.header(2).tx_count == 0
    assert chain.node.committed_nonce(chain.address(0)) == 0


def test_replayed_transaction_is_a_wrong_nonce_and_keeps_its_first_receipt(chain: Chain) -> None:
    tx = chain.sign(0, "transfer", [chain.address(1), b"upj", 1])
    first = chain.run(tx)[0]
    chain.node.produce_block([tx])
    assert chain.node.query_tx(chain.hash_fn(tx)) == first
    assert chain.balance(1, "upj") == 10**15 + 1


def test_bad_signature_is_refused(chain: Chain) -> None:
    tx = codec.decode_transaction(chain.sign(0, "transfer", [chain.address(1), b"upj", 1]))
    forged = rlp.encode(tx.copy(signature=bytes(64)))
    receipt = chain.run(forged)[0]
    assert reason_of(receipt) == Reason.BAD_SIGNATURE
    assert receipt["height"] is None
    with pytest.raises(TxRejected) as caught:
        chain.node.submit(forged)
    assert isinstance(core_error(caught.value), BadSignature)


def test_signature_by_another_key_is_refused(chain: Chain) -> None:
    tx = codec.decode_transaction(chain.sign(0, "transfer", [chain.address(1), b"upj", 1]))
    swapped = rlp.encode(tx.copy(pubkey=chain.accounts[1].pubkey))
    assert reason_of(chain.run(swapped)[0]) == Reason.BAD_SIGNATURE


def test_wrong_chain_id_is_refused(chain: Chain) -> None:
    tx = keys.sign_tx(
        chain.accounts[0].key, "another-chain", 0, "transfer", [chain.address(1), b"upj", 1]
    )
    receipt = chain.run(tx)[0]
    assert reason_of(receipt) == Reason.WRONG_CHAIN
    assert receipt["height"] is None


def test_unknown_kind_is_refused(chain: Chain) -> None:
    assert reason_of(chain.run1(0, "mint_for_free", [b"x"])) == Reason.UNKNOWN_KIND


def test_undecodable_bytes_are_refused(chain: Chain) -> None:
    receipt = chain.run(b"\xc3\x01\x02")[0]
    assert reason_of(receipt) == Reason.BAD_ENCODING


def test_oversized_transaction_is_refused(chain: Chain) -> None:
    tx = chain.sign(0, "transfer", [chain.address(1), b"upj", 1, b"x" * MAX_TX_BYTES])
    assert reason_of(chain.run(tx)[0]) == Reason.TOO_LARGE


@pytest.mark.parametrize(
    ("args", "why"),
    [
        ([b"\x01" * 19, b"upj", 1], "to must be 20 bytes"),
        ([b"\x01" * 20, b"upj", 0], "amount must be 1"),
        ([b"\x01" * 20, b"upj", b"\x00\x01"], "not a canonical unsigned integer"),
        ([b"\x01" * 20, b"", 1], "denom"),
        ([b"\x01" * 20, b"up j", 1], "denom"),
        ([b"\x01" * 20, b"a//b", 1], "denom"),
        ([b"\x01" * 20, b"upj"], "transfer takes"),
        ([[b"\x01" * 20], b"upj", 1], "to must be a byte string"),
    ],
)
def test_malformed_transfer_args_fail_with_bad_args(
    chain: Chain, args: list[object], why: str
) -> None:
    receipt = chain.run1(0, "transfer", args)
    assert reason_of(receipt) == Reason.BAD_ARGS
    assert why in str(receipt["reason"])


def test_mempool_admission_checks_nonce_order_and_duplicates(chain: Chain) -> None:
    first = chain.sign(0, "transfer", [chain.address(1), b"upj", 1])
    second = chain.sign(0, "transfer", [chain.address(1), b"upj", 1])
    chain.node.submit(first)
    with pytest.raises(Conflict):
        chain.node.submit(first)
    gap = chain.sign(0, "transfer", [chain.address(1), b"upj", 1], nonce=5)
    with pytest.raises(TxRejected) as caught:
        chain.node.submit(gap)
    assert caught.value.reason == Reason.WRONG_NONCE
    chain.node.submit(second)
    assert chain.node.query_tx(chain.hash_fn(first))["status"] == "pending"
    chain.node.produce_block()
    assert chain.node.query_tx(chain.hash_fn(second))["status"] == "committed"
    # After the block the pool falls back to the committed nonce.
    chain.node.submit(chain.sign(0, "transfer", [chain.address(1), b"upj", 1]))


def test_refused_submission_maps_to_core_errors() -> None:
    assert isinstance(core_error(TxRejected(Reason.WRONG_CHAIN, "x")), InvalidInput)
    assert isinstance(core_error(TxRejected(Reason.WRONG_NONCE, "x")), Conflict)
    assert core_error(TxRejected(Reason.BAD_ARGS, "x")).details["reason"] == "bad-args"


def test_unknown_transaction_is_not_found(chain: Chain) -> None:
    from core.errors import NotFound

    with pytest.raises(NotFound):
        chain.node.query_tx(bytes(32))

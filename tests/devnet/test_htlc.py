"""The HTLC module: lock, claim with the preimage before the timelock, refund after it."""

from __future__ import annotations

import hashlib

import pytest

from devnet.modules.htlc import Htlc
from devnet.state import HTLC_CLAIMED, HTLC_REFUNDED, htlc_key
from devnet.txs import Reason
from tests.devnet.test_transactions import reason_of
from tests.fixtures.devnet_chain import START_MS, Chain

PREIMAGE = b"\x5a" * 32
HASHLOCK = hashlib.sha256(PREIMAGE).digest()
TIMELOCK = START_MS + 60_000


def lock(
    chain: Chain, amount: int = 1000, timelock: int = TIMELOCK
) -> tuple[dict[str, object], bytes]:
    receipt = chain.run1(0, "htlc_lock", [chain.address(1), b"ucny", amount, HASHLOCK, timelock])
    events = receipt["events"]
    htlc_id = bytes.fromhex(events[0]["attributes"]["htlc_id"][2:]) if events else b""  # type: ignore[index]
    return receipt, htlc_id


def test_lock_holds_the_amount_under_an_id_of_all_its_terms(chain: Chain) -> None:
    receipt, htlc_id = lock(chain)
    assert receipt["status"] == "committed"
    assert chain.balance(0, "ucny") == 10**12 - 1000
    event = receipt["events"][0]  # type: ignore[index]
    assert event["kind"] == "htlc_locked"
    assert event["attributes"]["hashlock"] == "0x" + HASHLOCK.hex()
    assert event["attributes"]["timelock_ms"] == TIMELOCK
    stored = Htlc(chain.node.state_value(htlc_key(htlc_id)) or b"")
    assert (stored.sender, stored.receiver, stored.amount) == (
        chain.address(0),
        chain.address(1),
        1000,
    )
    _, second = lock(chain)  # same terms, next nonce: another contract
    assert second != htlc_id


def test_claim_pays_the_receiver_and_reveals_the_preimage(chain: Chain) -> None:
    _, htlc_id = lock(chain)
    receipt = chain.run1(3, "htlc_claim", [htlc_id, PREIMAGE])  # anyone may present it
    assert receipt["status"] == "committed"
    assert chain.balance(1, "ucny") == 10**12 + 1000
    event = receipt["events"][0]  # type: ignore[index]
    assert event["kind"] == "htlc_claimed"
    assert event["attributes"]["preimage"] == "0x" + PREIMAGE.hex()
    assert Htlc(chain.node.state_value(htlc_key(htlc_id)) or b"").status == HTLC_CLAIMED
    assert reason_of(chain.run1(1, "htlc_claim", [htlc_id, PREIMAGE])) == Reason.HTLC_CLOSED
    assert chain.balance(1, "ucny") == 10**12 + 1000


def test_refund_returns_the_amount_from_the_timelock_on(chain: Chain) -> None:
    _, htlc_id = lock(chain)
    assert reason_of(chain.run1(0, "htlc_refund", [htlc_id])) == Reason.HTLC_NOT_EXPIRED
    chain.clock.now = TIMELOCK
    receipt = chain.run1(0, "htlc_refund", [htlc_id])
    assert receipt["status"] == "committed"
    assert receipt["events"][0]["kind"] == "htlc_refunded"  # type: ignore[index]
    assert chain.balance(0, "ucny") == 10**12
    assert Htlc(chain.node.state_value(htlc_key(htlc_id)) or b"").status == HTLC_REFUNDED
    assert reason_of(chain.run1(0, "htlc_refund", [htlc_id])) == Reason.HTLC_CLOSED


def test_claim_at_the_timelock_is_too_late(chain: Chain) -> None:
    _, htlc_id = lock(chain)
    chain.clock.now = TIMELOCK
    assert reason_of(chain.run1(1, "htlc_claim", [htlc_id, PREIMAGE])) == Reason.HTLC_EXPIRED
    assert chain.balance(1, "ucny") == 10**12


def test_claim_with_a_wrong_preimage_fails(chain: Chain) -> None:
    _, htlc_id = lock(chain)
    assert reason_of(chain.run1(1, "htlc_claim", [htlc_id, b"\x00" * 32])) == Reason.WRONG_PREIMAGE
    receipt = chain.run1(1, "htlc_claim", [htlc_id, PREIMAGE[:31]])
    assert reason_of(receipt) == Reason.BAD_ARGS


def test_unknown_htlc_is_not_found(chain: Chain) -> None:
    assert reason_of(chain.run1(1, "htlc_claim", [b"\x01" * 32, PREIMAGE])) == Reason.HTLC_NOT_FOUND
    assert reason_of(chain.run1(1, "htlc_refund", [b"\x01" * 32])) == Reason.HTLC_NOT_FOUND


@pytest.mark.parametrize(
    ("amount", "timelock", "reason"),
    [
        (1000, START_MS - 1, Reason.BAD_ARGS),
        (10**13, TIMELOCK, Reason.INSUFFICIENT_FUNDS),
        (0, TIMELOCK, Reason.BAD_ARGS),
    ],
)
def test_lock_rejections(chain: Chain, amount: int, timelock: int, reason: Reason) -> None:
    receipt, _ = lock(chain, amount, timelock)
    assert reason_of(receipt) == reason
    assert chain.balance(0, "ucny") == 10**12

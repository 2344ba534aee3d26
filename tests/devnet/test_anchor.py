"""The devnet's ``anchor`` transaction: a 32-byte digest recorded in state by its sender."""

from __future__ import annotations

import pytest

from devnet.state import anchor_key, decode_uint
from tests.devnet.test_transactions import reason_of
from tests.fixtures.devnet_chain import Chain

DIGEST = bytes(range(32))


def test_an_anchor_records_the_digest_under_its_sender_at_the_first_height(chain: Chain) -> None:
    first = chain.run1(0, "anchor", [DIGEST])
    assert first["status"] == "committed"
    again = chain.run1(0, "anchor", [DIGEST])
    assert again["status"] == "committed"
    key = anchor_key(chain.address(0), DIGEST)
    assert decode_uint(chain.node.state_value(key)) == first["height"]
    assert chain.node.state_value(anchor_key(chain.address(1), DIGEST)) is None
    proof = chain.node.query_state_proof(key)
    assert proof["value"] == "0x" + bytes([first["height"]]).hex()


@pytest.mark.parametrize(
    "args",
    [[DIGEST[:31]], [DIGEST + b"\x00"], [], [DIGEST, DIGEST], [[DIGEST]]],
    ids=["short", "long", "none", "two", "nested"],
)
def test_an_anchor_with_bad_args_fails_and_records_nothing(chain: Chain, args: list) -> None:
    receipt = chain.run1(0, "anchor", args)
    assert receipt["status"] == "failed"
    assert reason_of(receipt) == "bad-args"

"""The Pujiang adapter's ``BridgeLedger`` reads against a scripted node: the escrow account
asked for is the one the devnet credits (``proofs.pujiang.escrow``), amounts are decimal
strings, and a malformed answer is refused naming what was wrong."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from core.errors import BadEncoding
from core.ids import ChainId
from devnet.modules.bridge import escrow_address as devnet_escrow
from proofs.hashing import SHA256
from proofs.pujiang.escrow import escrow_address
from tests.adapters.test_pujiang_adapter_unit import MockNodeTransport, run

ESCROW = "0x" + escrow_address(b"anvil-31337", SHA256).hex()


def test_the_devnet_and_the_adapter_derive_one_escrow_account() -> None:
    assert devnet_escrow is escrow_address
    assert len(bytes.fromhex(ESCROW[2:])) == 20


def test_escrow_and_supply_are_read_from_the_escrow_account_and_the_supply_query() -> None:
    mock = MockNodeTransport(
        {
            f"/v1/accounts/{ESCROW}": lambda r: {"balances": {"upj": "800"}},
            "/v1/supply": lambda r: {"denom": r.url.params["denom"], "supply": "1200"},
        }
    )
    escrowed = run(mock, lambda a: a.escrowed(ChainId("anvil-31337"), "upj"))
    none = run(mock, lambda a: a.escrowed(ChainId("anvil-31337"), "other"))
    supply = run(mock, lambda a: a.voucher_supply("anvil-31337/native"))
    assert (escrowed, none, supply) == (800, 0, 1200)
    assert mock.paths("/v1/supply")[0].url.params["denom"] == "anvil-31337/native"


@pytest.mark.parametrize(
    ("answer", "call"),
    [
        ({"balances": ["upj", 1]}, "escrowed"),
        ({"balances": {"upj": "-5"}}, "escrowed"),
        ({"balances": {"upj": 800}}, "escrowed"),
        ({"supply": "1e9"}, "voucher_supply"),
        ({"supply": "9" * 79}, "voucher_supply"),
        ({}, "voucher_supply"),
    ],
    ids=[
        "balances not a map",
        "negative",
        "a number not a string",
        "exponent",
        "over uint256 digits",
        "no supply",
    ],
)
def test_a_malformed_ledger_answer_is_refused(answer: dict[str, Any], call: str) -> None:
    mock = MockNodeTransport({"/v1/": lambda r: httpx.Response(200, json=answer)})
    calls = {
        "escrowed": lambda a: a.escrowed(ChainId("anvil-31337"), "upj"),
        "voucher_supply": lambda a: a.voucher_supply("anvil-31337/native"),
    }
    with pytest.raises(BadEncoding):
        run(mock, calls[call])

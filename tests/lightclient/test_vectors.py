"""The Solidity light client and ``proofs.pujiang`` agree on the generated Pujiang vectors.

Every ``verify_header`` case of ``tests/vectors/pujiang/headers.json`` and every
valid update of ``chain.json`` is run through ``PujiangLightClient.verifyUpdate``
on a real anvil, from a client whose checkpoint is the case's trusted height.
A valid case must give the same height and hash; an invalid one must revert
with ``"LC: <check>"``, the check the Python client names.

Two kinds of case differ by design, each asserted here, not skipped
(``docs/light-client-route.md``): a bad proof of possession is not checked on
chain (a set is used only once a header signed by the trusted set named it),
and a signature that is not a point cannot even be encoded for the contract
(the source adapter refuses it; the contract refuses an off-curve value).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.pujiang.evm_client_update import update_tuple
from core.errors import BadEncoding, ChainRejected
from tests.evm.chain import Chain, Contract

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "pujiang"
CHAIN = json.loads((VECTORS / "chain.json").read_text())
CASES = json.loads((VECTORS / "headers.json").read_text())["cases"]
BLOCKS = {b["height"]: b for b in CHAIN["blocks"]}
NOT_ON_CHAIN = {"proof-of-possession"}
OFF_CURVE_G2 = (1).to_bytes(64, "big") * 4


def h(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


@pytest.fixture(scope="module")
def clients(lc_chain: Chain, deployer: str) -> dict[int, Contract]:
    """One client per trusted height the cases use, its checkpoint that block."""
    out = {}
    params = CHAIN["client"]
    for height in sorted(
        {c["trusted_height"] for c in CASES} | {u["trusted_height"] for u in CHAIN["updates"]}
    ):
        contract = lc_chain.deploy(
            "PujiangLightClient",
            CHAIN["chain_id"],
            params["trusting_period_ms"],
            params["max_clock_drift_ms"],
            sender=deployer,
        )
        block = BLOCKS[height]
        contract.transact(
            "initialize", height, h(block["hash"]), h(block["header"]), sender=deployer
        )
        out[height] = contract
    return out


def update_for(
    trusted: int, header: str, commit: str, validators: str, **kw: Any
) -> tuple[Any, ...]:
    return update_tuple(
        trusted, h(header), h(commit), h(validators), h(BLOCKS[trusted]["validators"]), **kw
    )


def verify(client: Contract, update: tuple[Any, ...], now_ms: int) -> Any:
    return client.view("verifyUpdate", update, now_ms)


@pytest.mark.parametrize(
    "update", CHAIN["updates"], ids=lambda u: f"{u['trusted_height']}->{u['height']}"
)
def test_valid_updates_agree(clients: dict[int, Contract], update: dict[str, Any]) -> None:
    block = BLOCKS[update["height"]]
    got = verify(
        clients[update["trusted_height"]],
        update_for(update["trusted_height"], block["header"], block["commit"], block["validators"]),
        update["now_ms"],
    )
    assert got == [block["height"], h(block["hash"])] or tuple(got) == (
        block["height"],
        h(block["hash"]),
    )


HEADER_CASES = [c for c in CASES if c["call"] == "verify_header"]


@pytest.mark.parametrize("case", HEADER_CASES, ids=lambda c: c["name"])
def test_invalid_headers_refused_with_the_same_check(
    clients: dict[int, Contract], case: dict[str, Any]
) -> None:
    check = case["expect"]["check"]
    client = clients[case["trusted_height"]]
    try:
        update = update_for(
            case["trusted_height"], case["header"], case["commit"], case["validators"]
        )
    except BadEncoding:
        # Not a G2 point: the source adapter cannot encode it; the contract refuses the bytes.
        assert case["name"] == "signature-not-a-point"
        update = update_for(
            case["trusted_height"],
            case["header"],
            case["commit"],
            case["validators"],
            signature=OFF_CURVE_G2,
        )
        check = "aggregate-signature (not a G2 subgroup point)"
    if check in NOT_ON_CHAIN:  # the PoP is not hashed: the header still verifies on chain
        got = verify(client, update, case["now_ms"])
        assert bytes(got[1]) == hashlib.sha256(h(case["header"])).digest()
        return
    with pytest.raises(ChainRejected) as err:
        verify(client, update, case["now_ms"])
    reason = str(err.value.details.get("reason"))
    assert reason == f"LC: {check}" or reason.startswith(f"LC: {check} ("), reason

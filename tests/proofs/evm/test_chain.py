"""proofs.evm.chain and proofs.evm.finality: parent links from a trusted checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import InsufficientPower, InvalidHeader, RootMismatch, VerificationError
from proofs.evm.chain import (
    ETHEREUM_POST_MERGE_RULES,
    HeaderRules,
    compute_base_fee,
    validate_header_chain,
)
from proofs.evm.finality import ConfirmationDepth, FinalityPolicy, verify_final_header
from proofs.evm.header import EvmHeader, compute_header_hash, decode_block_header, header_from_rpc
from tests.proofs.evm._vectors import MPT, expect_files, load_json

INVALID_DIR = MPT / "ethereum-tests" / "BlockchainTests" / "InvalidBlocks" / "bcInvalidHeaderTest"
VALID_BLOCKCHAIN = expect_files(
    MPT / "ethereum-tests" / "BlockchainTests" / "ValidBlocks", "*/*.json", 4
)
expect_files(INVALID_DIR, "*.json", 13)

# What a light client can tell about each bcInvalidHeaderTest block from headers alone.
# (error class, details["check"]) when detected; None when only execution (or the block
# body) can tell — the light client accepts those headers and relies on finality.
DETECTION = {
    "wrongParentHash": (RootMismatch, "parent-hash"),  # UNKNOWN_PARENT_ZERO
    "wrongParentHash2": (RootMismatch, "parent-hash"),  # UNKNOWN_PARENT
    "wrongNumber": (InvalidHeader, "number"),  # INVALID_BLOCK_NUMBER
    "wrongTimestamp": (InvalidHeader, "timestamp"),  # ..._OLDER_THAN_PARENT
    "ExtraData33": (InvalidHeader, "extra-data"),  # EXTRA_DATA_TOO_BIG (rules)
    "wrongGasLimit": (InvalidHeader, "gas-limit"),  # INVALID_GASLIMIT (rules)
    "wrongUncleHash": (InvalidHeader, "ommers"),  # UNCLES_OVER_PARIS (rules)
    "DifficultyIsZero": None,  # valid block: no exception expected
    "wrongStateRoot": None,  # INVALID_STATE_ROOT: execution only
    "wrongReceiptTrie": None,  # INVALID_RECEIPTS_ROOT: execution only
    "wrongGasUsed": None,  # INVALID_GAS_USED: execution only
    "log1_wrongBloom": None,  # INVALID_LOG_BLOOM: execution only
    "wrongTransactionsTrie": None,  # INVALID_TRANSACTIONS_ROOT: needs the block body
}
# Checks that need the optional Ethereum header rules (the three core checks do not).
NEEDS_RULES = {"ExtraData33", "wrongGasLimit", "wrongUncleHash"}


def _genesis_and_block(path: Path) -> tuple[EvmHeader, EvmHeader, str | None]:
    (test,) = load_json(path).values()
    genesis = header_from_rpc(test["genesisBlockHeader"])
    (block,) = test["blocks"]
    return (
        genesis,
        decode_block_header(bytes.fromhex(block["rlp"][2:])),
        block.get("expectException"),
    )


def test_detection_table_covers_every_invalid_header_file() -> None:
    assert {p.stem for p in INVALID_DIR.glob("*.json")} == set(DETECTION)


@pytest.mark.parametrize("name", sorted(DETECTION))
def test_invalid_header_tests_are_caught_when_headers_can_tell(name: str) -> None:
    genesis, header, exception = _genesis_and_block(INVALID_DIR / f"{name}.json")
    expected = DETECTION[name]
    assert (exception is None) == (name == "DifficultyIsZero")
    if expected is None:
        # undetectable from headers: accepted even with every header rule on
        validate_header_chain(genesis, [header], rules=ETHEREUM_POST_MERGE_RULES)
        return
    error, check = expected
    rules = ETHEREUM_POST_MERGE_RULES if name in NEEDS_RULES else None
    with pytest.raises(error) as info:
        validate_header_chain(genesis, [header], rules=rules)
    assert type(info.value) is error
    assert info.value.details["check"] == check
    assert info.value.details["height"] == header.number
    if name in NEEDS_RULES:  # the core chain check alone accepts it
        validate_header_chain(genesis, [header])


@pytest.mark.parametrize("path", VALID_BLOCKCHAIN, ids=lambda p: p.stem)
def test_valid_blockchain_tests_pass_every_header_rule(path: Path) -> None:
    genesis, header, exception = _genesis_and_block(path)
    assert exception is None
    assert validate_header_chain(genesis, [header], rules=ETHEREUM_POST_MERGE_RULES) == header
    assert header.base_fee_per_gas == compute_base_fee(genesis)


def _mainnet_genesis_to_5() -> list[EvmHeader]:
    genesis_rlp = load_json(MPT / "ethereum-tests" / "BasicTests" / "genesishashestest.json")
    genesis = decode_block_header(bytes.fromhex(genesis_rlp["genesis_rlp_hex"]))
    path = MPT / "ethereumjs" / "rpc-block-headers" / "blocks_mainnet.json"
    return [genesis, *(header_from_rpc(item["header"]) for item in load_json(path))]


MAINNET = _mainnet_genesis_to_5()


def test_mainnet_genesis_links_to_block_5() -> None:
    assert validate_header_chain(MAINNET[0], MAINNET[1:]) == MAINNET[5]


def test_mainnet_provider_blocks_499999_and_500000_link() -> None:
    folder = MPT / "ethereumjs" / "eip1186-proofs" / "mainnet-provider-data" / "blocks"
    parent = header_from_rpc(load_json(folder / "block0x7a11f.json"))
    child = header_from_rpc(load_json(folder / "block0x7a120.json"))
    assert validate_header_chain(parent, [child]) == child


def test_empty_segment_returns_the_checkpoint() -> None:
    assert validate_header_chain(MAINNET[0], []) == MAINNET[0]


# --- malleate: block 3 of the mainnet segment, one thing broken per row -------------------


@pytest.mark.parametrize(
    ("changes", "error", "check"),
    [
        ({"number": 4}, InvalidHeader, "number"),
        ({"number": 2}, InvalidHeader, "number"),
        ({"timestamp": MAINNET[2].timestamp}, InvalidHeader, "timestamp"),
        ({"timestamp": MAINNET[2].timestamp - 1}, InvalidHeader, "timestamp"),
        ({"parent_hash": compute_header_hash(MAINNET[1])}, RootMismatch, "parent-hash"),
    ],
    ids=["number-skips", "number-repeats", "timestamp-equal", "timestamp-older", "parent-of-2"],
)
def test_broken_link_names_the_failing_height(changes: dict, error: type, check: str) -> None:
    broken = MAINNET[3].replace(**changes)
    with pytest.raises(error) as info:
        validate_header_chain(MAINNET[0], [MAINNET[1], MAINNET[2], broken, *MAINNET[4:]])
    assert type(info.value) is error
    assert info.value.details == info.value.details | {"check": check, "height": broken.number}


def test_a_later_header_cannot_be_reached_through_a_forged_one() -> None:
    forged = MAINNET[3].replace(state_root=b"\x01" * 32)
    with pytest.raises(RootMismatch) as info:
        validate_header_chain(MAINNET[0], [*MAINNET[1:3], forged, *MAINNET[4:]])
    assert info.value.details["height"] == 4  # block 4 names the real block 3 as its parent


def test_pre_merge_headers_break_post_merge_rules() -> None:
    with pytest.raises(VerificationError) as info:
        validate_header_chain(MAINNET[0], MAINNET[1:], rules=HeaderRules(post_merge=True))
    assert info.value.details["check"] == "difficulty"


# --- confirmation depth ----------------------------------------------------------------


def test_confirmation_depth_is_a_finality_policy() -> None:
    assert isinstance(ConfirmationDepth(2), FinalityPolicy)


@pytest.mark.parametrize(("depth", "final"), [(0, 5), (1, 4), (4, 1)])
def test_confirmation_depth_finalises_the_header_with_enough_descendants(
    depth: int, final: int
) -> None:
    assert verify_final_header(ConfirmationDepth(depth), MAINNET[0], MAINNET[1:]).number == final


def test_confirmation_depth_refuses_a_segment_that_is_too_short() -> None:
    with pytest.raises(InsufficientPower) as info:
        ConfirmationDepth(5).validate_finality(MAINNET[0], MAINNET[1:])
    assert info.value.details["depth"] == 5


def test_confirmation_depth_checks_the_links_itself() -> None:
    forged_2 = MAINNET[2].replace(gas_used=1)
    with pytest.raises(RootMismatch):
        ConfirmationDepth(0).validate_finality(MAINNET[0], [MAINNET[1], forged_2, *MAINNET[3:]])
    with pytest.raises(VerificationError):  # block 1 missing
        ConfirmationDepth(0).validate_finality(MAINNET[0], MAINNET[2:])


def test_finality_rules_run_before_the_policy() -> None:
    with pytest.raises(VerificationError) as info:
        verify_final_header(
            ConfirmationDepth(0), MAINNET[0], MAINNET[1:], rules=HeaderRules(max_extra_data=8)
        )
    assert info.value.details["check"] == "extra-data"


@pytest.mark.parametrize("depth", [-1, True, 1.5])
def test_confirmation_depth_must_be_a_natural_number(depth: object) -> None:
    from core.errors import ConfigError

    with pytest.raises(ConfigError):
        ConfirmationDepth(depth)  # type: ignore[arg-type]

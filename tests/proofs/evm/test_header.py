"""proofs.evm.header: every real header in the shared vectors hashes to its recorded hash."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import rlp

from core.errors import BadEncoding, RootMismatch
from proofs.evm.header import (
    EMPTY_OMMERS_HASH,
    EvmHeader,
    compute_header_hash,
    decode_block_header,
    decode_header,
    encode_header,
    header_field_names,
    header_from_rpc,
    header_to_rpc,
    validate_header_hash,
)
from tests.proofs.evm._vectors import MPT, expect_files, load_json

RPC_FILES = expect_files(MPT / "ethereumjs" / "rpc-block-headers", "*.json", 8)
PROVIDER_BLOCKS = expect_files(
    MPT / "ethereumjs" / "eip1186-proofs" / "mainnet-provider-data" / "blocks", "*.json", 2
)
HELIOS_BLOCK = expect_files(MPT / "helios", "block_*.json", 1)
VALID_BLOCKCHAIN = expect_files(
    MPT / "ethereum-tests" / "BlockchainTests" / "ValidBlocks", "*/*.json", 4
)
INVALID_BLOCKCHAIN = expect_files(
    MPT / "ethereum-tests" / "BlockchainTests" / "InvalidBlocks" / "bcInvalidHeaderTest",
    "*.json",
    13,
)
GENESIS_FILE = MPT / "ethereum-tests" / "BasicTests" / "genesishashestest.json"

MAINNET_BLOCK_1_HASH = bytes.fromhex(
    "88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6"
)


def _rpc_blocks() -> list[tuple[str, dict[str, Any]]]:
    """Every JSON-RPC block that carries its own ``hash``."""
    blocks = []
    for path in [*RPC_FILES, *PROVIDER_BLOCKS, *HELIOS_BLOCK]:
        data = load_json(path)
        if isinstance(data, dict):
            blocks.append((path.name, data))
    return blocks


RPC_BLOCKS = _rpc_blocks()


def test_rpc_vector_files_hold_ten_hashed_blocks() -> None:
    # 7 ethereumjs files with a hash (blocks_mainnet.json has none) + 2 provider blocks + helios
    assert len(RPC_BLOCKS) == 10


@pytest.mark.parametrize(("name", "block"), RPC_BLOCKS, ids=[n for n, _ in RPC_BLOCKS])
def test_rpc_block_hashes_to_its_recorded_hash(name: str, block: dict[str, Any]) -> None:
    header = header_from_rpc(block)
    validate_header_hash(header, bytes.fromhex(block["hash"][2:]))
    # the canonical encoding round-trips through the strict decoder
    assert decode_header(encode_header(header)) == header
    assert header_to_rpc(header)["hash"] == block["hash"]


def test_layouts_of_the_real_blocks_follow_their_forks() -> None:
    layouts = {name: header_from_rpc(block).layout for name, block in RPC_BLOCKS}
    assert layouts["alchemy14151203.json"] == "london"
    assert layouts["testdata-from-rpc-with-withdrawals.json"] == "shanghai"
    assert layouts["block_21925176.json"] == "cancun"
    assert layouts["infura2000004wotxns.json"] == "legacy"


def test_mainnet_blocks_1_to_5_hash_and_block_1_has_the_known_hash() -> None:
    (path,) = [p for p in RPC_FILES if p.name == "blocks_mainnet.json"]
    headers = [header_from_rpc(item["header"]) for item in load_json(path)]
    assert [h.number for h in headers] == [1, 2, 3, 4, 5]
    validate_header_hash(headers[0], MAINNET_BLOCK_1_HASH)
    for parent, child in itertools.pairwise(headers):
        assert child.parent_hash == compute_header_hash(parent)


def test_mainnet_genesis_rlp_hashes_to_the_genesis_hash() -> None:
    data = load_json(GENESIS_FILE)
    header = decode_block_header(bytes.fromhex(data["genesis_rlp_hex"]))
    validate_header_hash(header, bytes.fromhex(data["genesis_hash"]))
    assert header.state_root.hex() == data["genesis_state_root"]
    assert header.number == 0
    assert header.layout == "legacy"


def _blockchain_test(path: Path) -> dict[str, Any]:
    (test,) = load_json(path).values()
    return test


@pytest.mark.parametrize("path", VALID_BLOCKCHAIN + INVALID_BLOCKCHAIN, ids=lambda p: p.stem)
def test_blockchain_test_headers_hash_from_json_and_from_block_rlp(path: Path) -> None:
    test = _blockchain_test(path)
    genesis = test["genesisBlockHeader"]
    validate_header_hash(header_from_rpc(genesis), bytes.fromhex(genesis["hash"][2:]))
    assert decode_block_header(bytes.fromhex(test["genesisRLP"][2:])) == header_from_rpc(genesis)
    for block in test["blocks"]:
        source = block.get("blockHeader") or block["rlp_decoded"]["blockHeader"]
        header = header_from_rpc(source)
        validate_header_hash(header, bytes.fromhex(source["hash"][2:]))
        assert decode_block_header(bytes.fromhex(block["rlp"][2:])) == header
        assert header.layout == "cancun"


# --- malleate: a valid header, one field broken per row ---------------------------------

BASE = header_from_rpc(dict(RPC_BLOCKS)["block_21925176.json"])
BASE_HASH = compute_header_hash(BASE)


# the real Cancun header extended to the newest layout, so that every field is present
PRAGUE = BASE.replace(requests_hash=b"\x5a" * 32)


@pytest.mark.parametrize("field", header_field_names())
def test_changing_any_field_changes_the_hash(field: str) -> None:
    value = getattr(PRAGUE, field)
    if isinstance(value, int):
        changed = PRAGUE.replace(**{field: value + 1})
    else:
        changed = PRAGUE.replace(**{field: bytes([value[0] ^ 1]) + value[1:] if value else b"\x01"})
    with pytest.raises(RootMismatch) as info:
        validate_header_hash(changed, compute_header_hash(PRAGUE))
    assert info.value.details["height"] == changed.number


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"parent_hash": bytes(31)}, "parent_hash must be 32 bytes"),
        ({"coinbase": bytes(21)}, "coinbase must be 20 bytes"),
        ({"logs_bloom": bytes(255)}, "logs_bloom must be 256 bytes"),
        ({"nonce": bytes(7)}, "nonce must be 8 bytes"),
        ({"number": -1}, "number out of range"),
        ({"timestamp": 2**64}, "timestamp out of range"),
        ({"difficulty": True}, "difficulty must be an integer"),
        ({"extra_data": "0x"}, "extra_data must be bytes"),
        ({"base_fee_per_gas": None}, "later fork field without base_fee_per_gas"),
        ({"requests_hash": None, "parent_beacon_block_root": None}, "no fork has a header of 19"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_header_construction_rejects_malformed_fields(changes: dict, message: str) -> None:
    with pytest.raises(BadEncoding, match=message):
        BASE.replace(**changes)


def test_hash_check_rejects_a_claimed_hash_of_the_wrong_size() -> None:
    with pytest.raises(BadEncoding):
        validate_header_hash(BASE, BASE_HASH[:31])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda items: [*items, b"", b""], "list of 15, 16, 17, 20 or 21"),
        (lambda items: items[:18], "list of 15, 16, 17, 20 or 21"),
        (lambda items: [b"\x00" + items[0][1:], *items[1:]], None),  # 32 bytes, fine
        (lambda items: [*items[:8], b"\x00\x01", *items[9:]], "leading zero"),
        (lambda items: [*items[:12], [b"x"], *items[13:]], "must be an RLP string"),
        (lambda items: [*items[:2], b"\x11" * 21, *items[3:]], "coinbase must be 20 bytes"),
    ],
)
def test_decoder_is_strict(mutate, message: str | None) -> None:
    items = rlp.decode(encode_header(BASE))
    data = rlp.encode(mutate(items))
    if message is None:
        decode_header(data)
        return
    with pytest.raises(BadEncoding, match=message):
        decode_header(data)


def test_decoder_rejects_trailing_bytes_and_non_rlp() -> None:
    with pytest.raises(BadEncoding):
        decode_header(encode_header(BASE) + b"\x00")
    with pytest.raises(BadEncoding):
        decode_header(b"\xff\xff")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"parentHash": "0x00"}, "parent_hash must be 32 bytes"),
        ({"number": "12"}, "0x-prefixed hex quantity"),
        ({"number": "0xzz"}, "number is not hex"),
        ({"extraData": "0xabc"}, "extraData is not hex data"),
        ({"miner": None, "coinbase": None}, "coinbase is required"),
        ({"uncleHash": "0x" + bytes(32).hex()}, "both uncleHash and sha3Uncles"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_rpc_builder_rejects_malformed_blocks(block: dict, message: str) -> None:
    source = header_to_rpc(BASE) | block
    with pytest.raises(BadEncoding, match=message):
        header_from_rpc(source)


def test_rpc_builder_accepts_prague_headers_with_requests_hash() -> None:
    prague = BASE.replace(requests_hash=b"\x11" * 32)
    assert prague.layout == "prague"
    assert len(prague.to_fields()) == 21
    assert header_from_rpc(header_to_rpc(prague)) == prague
    assert decode_header(encode_header(prague)) == prague


def test_empty_ommers_hash_constant() -> None:
    assert EMPTY_OMMERS_HASH.hex().startswith("1dcc4de8dec75d7a")
    assert isinstance(BASE, EvmHeader)

"""proofs.evm.events: logs and account state proven against a verified header."""

from __future__ import annotations

import pytest

from core.errors import BadProof, InvalidInput, RootMismatch, ValueMismatch
from proofs.evm.events import verify_account_state, verify_log_inclusion, verify_receipt
from proofs.evm.header import EvmHeader, header_from_rpc, validate_header_hash
from proofs.mpt import Log, Receipt, prove_receipt
from tests.proofs.evm._vectors import MPT, expect_files, load_json

HELIOS_PROOFS = expect_files(MPT / "helios", "proof_*.json", 2)
PROVIDER = MPT / "ethereumjs" / "eip1186-proofs" / "mainnet-provider-data"
PROVIDER_ACCOUNTS = expect_files(PROVIDER / "accounts", "*.json", 1)


def _verified(block: dict) -> EvmHeader:
    header = header_from_rpc(block)
    validate_header_hash(header, bytes.fromhex(block["hash"][2:]))
    return header


HELIOS_HEADER = _verified(load_json(MPT / "helios" / "block_21925176.json"))


@pytest.mark.parametrize("path", HELIOS_PROOFS, ids=lambda p: p.stem)
def test_mainnet_eth_get_proof_verifies_against_the_verified_header(path) -> None:
    response = load_json(path)
    proven = verify_account_state(HELIOS_HEADER, response)
    assert proven.account is not None
    assert proven.account.balance == int(response["balance"], 16)
    for entry in response["storageProof"]:
        assert proven.storage[int(entry["key"], 16).to_bytes(32, "big")] == int(entry["value"], 16)


@pytest.mark.parametrize("block_key", ["0x7a11f", "0x7a120"])
def test_provider_account_proofs_verify_against_their_blocks(block_key: str) -> None:
    (path,) = PROVIDER_ACCOUNTS
    header = _verified(load_json(PROVIDER / "blocks" / f"block{block_key}.json"))
    response = load_json(path)[block_key]
    assert verify_account_state(header, response).account is not None


def test_account_proof_against_another_block_fails() -> None:
    response = load_json(HELIOS_PROOFS[0])
    other = header_from_rpc(load_json(PROVIDER / "blocks" / "block0x7a120.json"))
    with pytest.raises(RootMismatch):
        verify_account_state(other, response)


# --- receipts (synthetic: no real receipt proof is among the shared vectors) ------------

TOKEN = b"\x7e" * 20
TRANSFER_TOPIC = bytes.fromhex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
LOG_A = Log(TOKEN, (TRANSFER_TOPIC, b"\x00" * 12 + b"\x01" * 20), b"\x00" * 31 + b"\x05")
LOG_B = Log(b"\x11" * 20, (), b"payload")
RECEIPTS = [
    Receipt(tx_type=2, status=1, cumulative_gas_used=21000, logs_bloom=bytes(256)),
    Receipt(
        tx_type=2, status=1, cumulative_gas_used=90000, logs_bloom=bytes(256), logs=(LOG_A, LOG_B)
    ),
    Receipt(tx_type=0, status=0, cumulative_gas_used=120000, logs_bloom=bytes(256)),
    *(
        Receipt(tx_type=1, status=1, cumulative_gas_used=130000 + i, logs_bloom=bytes(256))
        for i in range(20)
    ),
]
ROOT, PROOF_1 = prove_receipt(RECEIPTS, 1)
HEADER = HELIOS_HEADER.replace(receipts_root=ROOT)


def test_log_is_returned_after_the_receipt_proof() -> None:
    assert verify_log_inclusion(HEADER, 1, PROOF_1, 0) == LOG_A
    assert verify_log_inclusion(HEADER, 1, PROOF_1, 1) == LOG_B
    assert verify_receipt(HEADER, 1, PROOF_1) == RECEIPTS[1]


@pytest.mark.parametrize(
    ("header", "tx_index", "proof", "log_index", "error"),
    [
        (HELIOS_HEADER, 1, PROOF_1, 0, RootMismatch),  # the real block's receiptsRoot
        (HEADER, 1, PROOF_1, 2, ValueMismatch),  # the receipt has two logs
        (HEADER, 0, PROOF_1, 0, BadProof),  # proof of receipt 1 used for index 0
        (HEADER, 1, PROOF_1[:-1], 0, BadProof),  # truncated proof
        (HEADER, 1, PROOF_1, -1, InvalidInput),
    ],
    ids=["other-root", "no-such-log", "other-index", "truncated", "negative-log-index"],
)
def test_log_inclusion_failures(header, tx_index, proof, log_index, error) -> None:
    with pytest.raises(error):
        verify_log_inclusion(header, tx_index, proof, log_index)


def test_logs_of_a_failed_transaction_are_refused() -> None:
    _, proof_2 = prove_receipt(RECEIPTS, 2)
    with pytest.raises(ValueMismatch):
        verify_log_inclusion(HEADER, 2, proof_2, 0)
    with pytest.raises(ValueMismatch):  # still no log 0 without the status requirement
        verify_log_inclusion(HEADER, 2, proof_2, 0, require_success=False)

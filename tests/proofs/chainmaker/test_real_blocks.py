"""Every real ChainMaker block of the vectors verifies: hash, proposer, QC, body, proofs."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from proofs.chainmaker import (
    ChainTrust,
    compute_block_hash,
    decode_block_info,
    verify_block,
    verify_block_body,
    verify_rwset_inclusion,
    verify_tx_inclusion,
)
from proofs.chainmaker.encoding import compute_tx_hash, encode
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import SHA256, SM3
from tests.proofs.chainmaker.helpers import BLOCK_FILES, FULL_BLOCKS, NODES, trust_for


@pytest.mark.parametrize("height", sorted(BLOCK_FILES))
def test_real_block_header_proposer_and_qc_verify(
    height: int, cm_blocks: dict[int, dict[str, Any]], cm_trusts: dict[int, ChainTrust]
) -> None:
    info = decode_block_info(cm_blocks[height])
    header = info.block.header
    assert header.block_height == height
    assert header.block_version == 2030200
    assert compute_block_hash(header, SHA256) == header.block_hash
    verified = verify_block(info, trust_for(cm_trusts, info))
    assert verified.block_hash == header.block_hash
    assert len(verified.signers) == 3  # 3 of the 4 validators voted
    assert set(verified.signers) <= set(NODES)


@pytest.mark.parametrize("height", FULL_BLOCKS)
def test_real_block_body_roots_verify(
    height: int, cm_blocks: dict[int, dict[str, Any]], cm_trusts: dict[int, ChainTrust]
) -> None:
    info = decode_block_info(cm_blocks[height])
    verify_block_body(info, trust_for(cm_trusts, info))


@pytest.mark.parametrize("height", FULL_BLOCKS)
def test_v23_tx_hash_zeroes_gas_used_and_the_stored_hash_does_not_match(
    height: int, cm_blocks: dict[int, dict[str, Any]]
) -> None:
    info = decode_block_info(cm_blocks[height])
    header, tx = info.block.header, info.block.txs[0]
    assert tx.result.contract_result.gas_used > 0
    assert compute_tx_hash(tx, header.block_version, SHA256) == header.tx_root
    assert SHA256(encode(tx)) != header.tx_root  # the trap: hashing as stored
    assert compute_tx_hash(tx, 2020000, SHA256) != header.tx_root  # a pre-2.3 rule


@pytest.mark.parametrize("height", FULL_BLOCKS)
def test_real_single_tx_proofs_have_empty_paths(
    height: int, cm_blocks: dict[int, dict[str, Any]], cm_trusts: dict[int, ChainTrust]
) -> None:
    info = decode_block_info(cm_blocks[height])
    trust = trust_for(cm_trusts, info)
    header = info.block.header
    assert header.tx_count == 1
    verify_tx_inclusion(header, info.block.txs[0], 0, [], trust)
    verify_rwset_inclusion(header, info.rwset_list[0], 0, [], trust)


def test_json_and_protobuf_bytes_decode_to_the_same_block(
    cm_blocks: dict[int, dict[str, Any]], cm_trusts: dict[int, ChainTrust]
) -> None:
    info = decode_block_info(cm_blocks[30])
    again = decode_block_info(encode(info))
    assert again == info
    verify_block(again, trust_for(cm_trusts, again))


def test_tcip_record_transactions_sign_over_sm3_and_hash_by_the_v23_rule(cm_dir: Path) -> None:
    """The TCIP record: PUBLIC_KEY senders, ECDSA P-256 over SM3; its proof carries the
    transaction with gas_used zeroed, so SM3 of those bytes is the v2.3 hash."""
    from proofs.chainmaker.identity import load_public_key, verify_member_signature

    record = json.loads((cm_dir / "tcip_crosschain_record_pk_sm3.json").read_text())
    content = record["cross_chain_tx_content"][0]["tx_content"]
    tx = pb.Transaction()
    tx.ParseFromString(base64.b64decode(content["tx"]))
    assert tx.sender.signer.member_type == pb.PUBLIC_KEY
    key = load_public_key(tx.sender.signer.member_info)
    payload = encode(tx.payload)
    assert verify_member_signature(key, payload, tx.sender.signature, SM3)
    assert not verify_member_signature(key, payload, tx.sender.signature, SHA256)
    prove = json.loads(content["tx_prove"])
    assert base64.b64decode(prove["hash_type"]) == b"SM3"
    proved = base64.b64decode(prove["tx_byte"])
    assert tx.result.contract_result.gas_used > 0
    assert compute_tx_hash(tx, 2030200, SM3) == SM3(proved)
    first = pb.TransactionInfo()
    first.ParseFromString(base64.b64decode(record["first_tx_content"]["tx_content"]["tx"]))
    sender = first.transaction.sender
    assert verify_member_signature(
        load_public_key(sender.signer.member_info),
        encode(first.transaction.payload),
        sender.signature,
        SM3,
    )


def test_light_client_on_the_real_chain(
    cm_blocks: dict[int, dict[str, Any]], cm_trusts: dict[int, ChainTrust]
) -> None:
    """2 -> 3 adjacent (parent hash links); 30 needs configuration 22 first; from a
    checkpoint at 30 under configuration 22, 34 verifies (a skip within one config)."""
    from proofs.chainmaker import ClientState, create_trusted_block, update_client
    from proofs.chainmaker.errors import ParentMismatch, UnknownConfig

    infos = {h: decode_block_info(doc) for h, doc in cm_blocks.items()}
    client = ClientState(chain_id="chain1", trusting_period_s=14 * 24 * 3600)
    h2 = infos[2].block.header
    at2 = create_trusted_block(client, cm_trusts[0], 2, h2.block_hash, h2.block_timestamp)
    at3 = update_client(client, at2, infos[3], h2.block_timestamp + 60)
    assert at3.block_hash == infos[3].block.header.block_hash
    with pytest.raises(UnknownConfig):
        update_client(client, at3, infos[30], infos[30].block.header.block_timestamp)
    h30 = infos[30].block.header
    at30 = create_trusted_block(client, cm_trusts[22], 30, h30.block_hash, h30.block_timestamp)
    at34 = update_client(client, at30, infos[34], h30.block_timestamp + 400)
    assert at34.height == 34
    wrong_parent = dataclasses.replace(at2, block_hash=bytes(32))
    with pytest.raises(ParentMismatch):
        update_client(client, wrong_parent, infos[3], h2.block_timestamp + 60)


def test_a_json_field_chainmaker_does_not_have_is_refused(
    cm_blocks: dict[int, dict[str, Any]],
) -> None:
    from proofs.chainmaker.errors import MalformedBlock

    doc = copy.deepcopy(cm_blocks[2])
    doc["block"]["header"]["gas_price"] = 1
    with pytest.raises(MalformedBlock):
        decode_block_info(doc)


def test_real_transaction_signatures_endorsers_and_cert_hash_sender(
    cm_blocks: dict[int, dict[str, Any]], cm_trusts: dict[int, ChainTrust]
) -> None:
    """Endorsers (certificates) and the sender (CERT_HASH, its certificate read by block 30
    from CERT_MANAGE) sign the payload; block 2's sender is the same certificate."""
    from proofs.chainmaker.errors import BadTxSignature, MalformedBlock
    from proofs.chainmaker.verifier import compute_block_certs, verify_tx_signatures

    h2, h30 = decode_block_info(cm_blocks[2]), decode_block_info(cm_blocks[30])
    certs = compute_block_certs(h30, SHA256)
    assert list(certs) == [bytes(h30.block.txs[0].sender.signer.member_info)]
    verify_tx_signatures(h30.block.txs[0], cm_trusts[22], certs)
    verify_tx_signatures(h2.block.txs[0], cm_trusts[0], certs)
    with pytest.raises(MalformedBlock) as caught:
        verify_tx_signatures(h2.block.txs[0], cm_trusts[0], {})
    assert caught.value.details["check"] == "cert-hash"
    tx = h2.block.txs[0]
    tx.endorsers[1].signature = tx.endorsers[1].signature[:-1] + bytes(
        [tx.endorsers[1].signature[-1] ^ 1]
    )
    with pytest.raises(BadTxSignature) as refused:
        verify_tx_signatures(tx, cm_trusts[0], certs)
    assert refused.value.details["role"] == "endorser"

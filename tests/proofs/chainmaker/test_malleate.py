"""One field of a real block broken per row, each refused with its exact reason (error code).

Rows on the full block of height 2 (votes of wx-org1, wx-org2, wx-org3; wx-org4
did not vote). A row that must reach a check past the block hash re-derives
what the header commits to (hash, ``maj23``, vote hashes) as an attacker would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from core.errors import VerificationError
from proofs.chainmaker import ChainTrust, decode_block_info, verify_block, verify_block_body
from proofs.chainmaker import errors as E
from proofs.chainmaker.encoding import (
    TBFT_QC_KEY,
    compute_block_hash,
    decode_vote_set,
    encode,
)
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.chainmaker.verifier import verify_tx_inclusion
from proofs.hashing import SHA256
from tests.proofs.chainmaker.helpers import NODES

ORG1, ORG2, ORG3, ORG4 = (
    "QmVkqwwEEnfPjw7RiKoYUqN7hFN3tcQaG4aUJLZUF6U4L7",
    "QmTKwyspT55Jcq8ien1JMyxckN6AmqgBpCz2vUZyp4NRdX",
    "QmZGKPwu3K9uCdo3x4EsR5N4nmR4qpk7Q56RLzsNdHbKw8",
    "QmUjC29VEBtRcD2jQv8kZLmJnqNeEjwjSJKe17zKuysUsJ",
)


def votes_of(info: pb.BlockInfo) -> tuple[pb.VoteSet, list[tuple[str, pb.Vote]]]:
    return decode_vote_set(info.block.additional_data.extra_data[TBFT_QC_KEY])


def put_votes(info: pb.BlockInfo, vote_set: pb.VoteSet, extra: bytes = b"") -> None:
    info.block.additional_data.extra_data[TBFT_QC_KEY] = encode(vote_set) + extra


def edit_vote(info: pb.BlockInfo, node: str, change: Callable[[pb.Vote], None]) -> None:
    vote_set, _ = votes_of(info)
    vote = pb.Vote()
    vote.CopyFrom(vote_set.votes[node])
    del vote_set.votes[node]
    change(vote)
    vote_set.votes[vote.voter].CopyFrom(vote)
    put_votes(info, vote_set)


def flip(data: bytes, at: int = -1) -> bytes:
    out = bytearray(data)
    out[at] ^= 0x01
    return bytes(out)


def rehash(info: pb.BlockInfo) -> None:
    """What an attacker re-derives after changing the header: hash, maj23, vote hashes."""
    header = info.block.header
    header.block_hash = compute_block_hash(header, SHA256)
    vote_set, _ = votes_of(info)
    vote_set.maj23 = header.block_hash
    for vote in vote_set.votes.values():
        vote.hash = header.block_hash
    put_votes(info, vote_set)


def signer_cert(info: pb.BlockInfo, node: str) -> bytes:
    return votes_of(info)[0].votes[node].endorsement.signer.member_info


# --- the rows ---------------------------------------------------------------------------------


def vote_signature(info: pb.BlockInfo) -> None:
    def change(v: pb.Vote) -> None:
        v.endorsement.signature = flip(v.endorsement.signature, 10)

    edit_vote(info, ORG1, change)


def voter_swapped(info: pb.BlockInfo) -> None:
    """org2's vote presented as the vote of org4's node (which did not vote)."""

    def change(v: pb.Vote) -> None:
        v.voter = ORG4

    edit_vote(info, ORG2, change)


def duplicated_vote(info: pb.BlockInfo) -> None:
    vote_set, _ = votes_of(info)
    again = pb.VoteSetEntries(votes=[pb.VoteEntry(key=ORG1, value=vote_set.votes[ORG1])])
    put_votes(info, vote_set, encode(again))


def unknown_voter(info: pb.BlockInfo) -> None:
    def change(v: pb.Vote) -> None:
        v.voter = "QmNotAValidatorOfThisChain000000000000000000000"

    edit_vote(info, ORG3, change)


def vote_removed(info: pb.BlockInfo) -> None:
    vote_set, _ = votes_of(info)
    del vote_set.votes[ORG3]
    put_votes(info, vote_set)


def vote_for_other_block(info: pb.BlockInfo) -> None:
    def change(v: pb.Vote) -> None:
        v.hash = flip(v.hash)

    edit_vote(info, ORG3, change)


def vote_round(info: pb.BlockInfo) -> None:
    def change(v: pb.Vote) -> None:
        v.round += 1

    edit_vote(info, ORG1, change)


def vote_prevote(info: pb.BlockInfo) -> None:
    def change(v: pb.Vote) -> None:
        v.type = pb.VOTE_PREVOTE

    edit_vote(info, ORG1, change)


def maj23(info: pb.BlockInfo) -> None:
    vote_set, _ = votes_of(info)
    vote_set.maj23 = flip(vote_set.maj23)
    put_votes(info, vote_set)


def block_hash(info: pb.BlockInfo) -> None:
    info.block.header.block_hash = flip(info.block.header.block_hash)


def proposer_swapped(info: pb.BlockInfo) -> None:
    """The proposer (wx-org2) replaced by wx-org3's node: the header commits to it."""
    info.block.header.proposer.org_id = NODES[ORG3]
    info.block.header.proposer.member_info = signer_cert(info, ORG3)


def proposer_swapped_rehashed(info: pb.BlockInfo) -> None:
    proposer_swapped(info)
    rehash(info)


def proposer_signature(info: pb.BlockInfo) -> None:
    info.block.header.signature = flip(info.block.header.signature, 10)


def proposer_outside(info: pb.BlockInfo) -> None:
    info.block.header.proposer.org_id = "wx-org9.chainmaker.org"
    rehash(info)


def cert_from_other_ca(info: pb.BlockInfo) -> None:
    """org1's vote signed (claimed) with org2's consensus certificate, org_id kept org1."""
    cert = signer_cert(info, ORG2)

    def change(v: pb.Vote) -> None:
        v.endorsement.signer.member_info = cert

    edit_vote(info, ORG1, change)


def pinned_cert_other(info: pb.BlockInfo) -> None:
    """org3's vote (org3 is pinned) carrying org1's certificate under org3's name."""
    cert = signer_cert(info, ORG1)

    def change(v: pb.Vote) -> None:
        v.endorsement.signer.member_info = cert

    edit_vote(info, ORG3, change)


def chain_id(info: pb.BlockInfo) -> None:
    info.block.header.chain_id = "chain2"


def pre_conf_height(info: pb.BlockInfo) -> None:
    info.block.header.pre_conf_height = 22
    rehash(info)


def no_qc(info: pb.BlockInfo) -> None:
    del info.block.additional_data.extra_data[TBFT_QC_KEY]


HEADER_ROWS: list[tuple[str, Callable[[pb.BlockInfo], None], type]] = [
    ("a vote's signature", vote_signature, E.BadVoteSignature),
    ("a voter swapped", voter_swapped, E.VoterBindingMismatch),
    ("a duplicated vote", duplicated_vote, E.DuplicateVote),
    ("a voter outside the validators", unknown_voter, E.UnknownVoter),
    ("a vote removed (2 of 4)", vote_removed, E.InsufficientVotes),
    ("a vote for another block (not counted)", vote_for_other_block, E.InsufficientVotes),
    ("a vote of another round", vote_round, E.VoteMismatch),
    ("a prevote among precommits", vote_prevote, E.VoteMismatch),
    ("maj23", maj23, E.Maj23Mismatch),
    ("the block hash", block_hash, E.BlockHashMismatch),
    ("the proposer", proposer_swapped, E.BlockHashMismatch),
    ("the proposer, hash re-derived", proposer_swapped_rehashed, E.BadProposerSignature),
    ("the proposer's signature", proposer_signature, E.BadProposerSignature),
    ("a proposer outside the validators", proposer_outside, E.UnknownProposer),
    ("a cert from another CA", cert_from_other_ca, E.UntrustedIdentity),
    ("a cert other than the pinned one", pinned_cert_other, E.VoterBindingMismatch),
    ("the chain id", chain_id, E.ChainIdMismatch),
    ("pre_conf_height", pre_conf_height, E.UnknownConfig),
    ("no quorum certificate", no_qc, E.MalformedBlock),
]


@pytest.fixture
def h2(cm_blocks: dict[int, dict[str, Any]]) -> pb.BlockInfo:
    return decode_block_info(cm_blocks[2])


@pytest.mark.parametrize(
    ("row", "mutate", "error"), HEADER_ROWS, ids=[row for row, _, _ in HEADER_ROWS]
)
def test_malleated_header_is_refused_with_its_reason(
    row: str,
    mutate: Callable[[pb.BlockInfo], None],
    error: type[VerificationError],
    h2: pb.BlockInfo,
    cm_trusts: dict[int, ChainTrust],
) -> None:
    trust = cm_trusts[0]
    verify_block(h2, trust)  # the unbroken block verifies
    mutate(h2)
    with pytest.raises(VerificationError) as caught:
        verify_block(h2, trust)
    assert type(caught.value) is error, f"{row}: {caught.value!r}"
    assert caught.value.code == error.code


def test_a_ca_replaced_in_the_trust_refuses_its_org(
    h2: pb.BlockInfo, cm_trusts: dict[int, ChainTrust]
) -> None:
    trust = cm_trusts[0]
    cas = dict(trust.org_cas)
    cas["wx-org1.chainmaker.org"] = cas["wx-org2.chainmaker.org"]
    with pytest.raises(E.UntrustedIdentity) as caught:
        verify_block(h2, dataclasses.replace(trust, org_cas=cas))
    assert caught.value.details["check"] == "cert-chain"


def test_a_cert_checked_after_its_validity_is_refused(
    h2: pb.BlockInfo, cm_trusts: dict[int, ChainTrust]
) -> None:
    h2.block.header.block_timestamp = 2_000_000_000  # 2033-05, past the certificates' end
    rehash(h2)
    with pytest.raises(E.UntrustedIdentity) as caught:
        verify_block(h2, cm_trusts[0])
    assert caught.value.details["check"] == "cert-validity"


# --- the body ---------------------------------------------------------------------------------


def tx_byte(info: pb.BlockInfo) -> None:
    info.block.txs[0].payload.method = "INIT_CONTRACT_"


def tx_gas_used(info: pb.BlockInfo) -> None:
    """gas_used is outside the v2.3 hash: changing it alone keeps tx_root (not a refusal)."""
    info.block.txs[0].result.contract_result.gas_used += 1


def rwset_write(info: pb.BlockInfo) -> None:
    info.rwset_list[0].tx_writes[0].value = flip(info.rwset_list[0].tx_writes[0].value)


def rw_set_hash_in_result(info: pb.BlockInfo) -> None:
    info.block.txs[0].result.rw_set_hash = flip(info.block.txs[0].result.rw_set_hash)


def dag(info: pb.BlockInfo) -> None:
    info.block.dag.vertexes[0].neighbors.append(0)


def tx_count(info: pb.BlockInfo) -> None:
    info.block.header.tx_count = 2


def tx_removed(info: pb.BlockInfo) -> None:
    del info.block.txs[0]


BODY_ROWS: list[tuple[str, Callable[[pb.BlockInfo], None], type | None]] = [
    ("one byte of a tx", tx_byte, E.TxRootMismatch),
    ("gas_used (outside the v2.3 hash)", tx_gas_used, None),
    ("a write of the rw set", rwset_write, E.RwSetHashMismatch),
    ("the result's rw_set_hash", rw_set_hash_in_result, E.TxRootMismatch),
    ("the DAG", dag, E.DagHashMismatch),
    ("tx_count", tx_count, E.TxCountMismatch),
    ("a transaction removed", tx_removed, E.TxCountMismatch),
]


@pytest.mark.parametrize(("row", "mutate", "error"), BODY_ROWS, ids=[r for r, _, _ in BODY_ROWS])
def test_malleated_body_is_refused_with_its_reason(
    row: str,
    mutate: Callable[[pb.BlockInfo], None],
    error: type[VerificationError] | None,
    h2: pb.BlockInfo,
    cm_trusts: dict[int, ChainTrust],
) -> None:
    trust = cm_trusts[0]
    mutate(h2)
    if error is None:
        verify_block_body(h2, trust)
        return
    with pytest.raises(VerificationError) as caught:
        verify_block_body(h2, trust)
    assert type(caught.value) is error, f"{row}: {caught.value!r}"


@pytest.mark.parametrize(
    ("row", "index", "path", "error"),
    [
        ("the index past tx_count", 1, [], E.BadMerklePath),
        ("a negative index", -1, [], E.BadMerklePath),
        ("a path longer than the depth", 0, [bytes(32)], E.BadMerklePath),
    ],
)
def test_malleated_real_proof_is_refused(
    row: str,
    index: int,
    path: list[bytes],
    error: type[VerificationError],
    h2: pb.BlockInfo,
    cm_trusts: dict[int, ChainTrust],
) -> None:
    with pytest.raises(error):
        verify_tx_inclusion(h2.block.header, h2.block.txs[0], index, path, cm_trusts[0])


def test_a_tx_byte_changed_is_refused_by_its_proof(
    h2: pb.BlockInfo, cm_trusts: dict[int, ChainTrust]
) -> None:
    tx_byte(h2)
    with pytest.raises(E.ProofRootMismatch):
        verify_tx_inclusion(h2.block.header, h2.block.txs[0], 0, [], cm_trusts[0])

"""The ``core.seams.LightClient`` of ChainMaker, assembled from ``proofs.chainmaker``.

A ``HeaderUpdate`` carries ``encoded`` = the protobuf ``BlockHeader`` (what the
block hash is computed over, with ``block_hash`` and ``signature`` inside) and
``evidence`` = a protobuf ``BlockInfo`` without its header: the additional data
holding the TBFT quorum certificate and, for a configuration block only, the
body (transactions, DAG, read-write sets) the light client needs to rotate the
validators. Verification is ``proofs.chainmaker.light_client.update_client``.

States: the client state holds the trusting parameters AND the trusted
configurations of the trust file (so an anchor finds the validators in force
at its ``pre_conf_height``); the consensus state is the proofs' ``TrustedBlock``
plus the verified header's bytes, whose roots (``tx_root``, ``rw_set_root``,
``tx_count``) the inclusion proofs are checked against.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from google.protobuf.message import DecodeError

from core.errors import BadEncoding, BadProof, ConfigError, InvalidHeader, RootMismatch
from core.types import HeaderUpdate, InclusionProof
from proofs.chainmaker.encoding import TBFT_QC_KEY, encode
from proofs.chainmaker.errors import MalformedBlock
from proofs.chainmaker.identity import ChainTrust
from proofs.chainmaker.light_client import ClientState, TrustedBlock, is_config_block, update_client
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.chainmaker.verifier import verify_block, verify_rwset_inclusion, verify_tx_inclusion

TX_PROOF_KIND: Final = "chainmaker-tx"
"""A transaction in ``tx_root``: key = index (uint64 BE), value = the ``Transaction``."""

RWSET_PROOF_KIND: Final = "chainmaker-rwset"
"""A read-write set in ``rw_set_root``: key = index (uint64 BE), value = the ``TxRWSet``."""


@dataclass(frozen=True, slots=True)
class ChainMakerClient:
    """The light client's parameters and the configurations the operator trusts."""

    params: ClientState
    trusts: Mapping[int, ChainTrust]

    def trust_at(self, config_height: int) -> ChainTrust:
        trust = self.trusts.get(config_height)
        if trust is None:
            raise InvalidHeader(
                f"no trusted configuration {config_height} (feed its configuration block)",
                check="config-unknown",
            )
        return trust


@dataclass(frozen=True, slots=True)
class ChainMakerConsensus:
    """A verified block: the proofs' ``TrustedBlock`` and the header's protobuf bytes."""

    trusted: TrustedBlock
    header: bytes

    def parsed_header(self) -> pb.BlockHeader:
        return decode_header(self.header)


def decode_header(data: bytes) -> pb.BlockHeader:
    """A ``BlockHeader`` from its protobuf bytes (``MalformedBlock`` on garbage)."""
    header = pb.BlockHeader()
    try:
        header.ParseFromString(data)
    except DecodeError as err:
        raise MalformedBlock("the header does not decode", check="encoding") from err
    if header.block_height == 0 and not header.chain_id:
        raise MalformedBlock("the header is empty", check="encoding")
    return header


def encode_evidence(info: pb.BlockInfo) -> bytes:
    """The canonical evidence of ``info``: the quorum certificate reduced to what the
    verifier reads (type, height, round, ``maj23``, the votes), the body only for a
    configuration block.

    The certificate sits outside the block hash, so nothing else in it is
    authenticated: ``votes_by_block`` and ``sum`` are dropped rather than carried
    unverified, and the light client refuses any other form.
    """
    evidence = pb.BlockInfo()
    qc = info.block.additional_data.extra_data.get(TBFT_QC_KEY)
    if qc is not None:
        vote_set = pb.VoteSet()
        try:
            vote_set.ParseFromString(qc)
        except DecodeError as err:
            raise MalformedBlock("the TBFT vote set does not decode", check="qc-encoding") from err
        reduced = pb.VoteSet(
            type=vote_set.type, height=vote_set.height, round=vote_set.round, maj23=vote_set.maj23
        )
        for voter, vote in vote_set.votes.items():
            reduced.votes[voter].CopyFrom(vote)
        evidence.block.additional_data.extra_data[TBFT_QC_KEY] = encode(reduced)
    if is_config_block(info.block):
        evidence.block.dag.CopyFrom(info.block.dag)
        evidence.block.txs.extend(info.block.txs)
        evidence.rwset_list.extend(info.rwset_list)
    return encode(evidence)


def decode_update(update: HeaderUpdate) -> pb.BlockInfo:
    """The ``BlockInfo`` a ``HeaderUpdate`` carries (header + evidence), checked for form:
    the evidence must be exactly the canonical one (:func:`encode_evidence`)."""
    header = decode_header(update.encoded)
    info = pb.BlockInfo()
    try:
        info.ParseFromString(update.evidence)
    except DecodeError as err:
        raise MalformedBlock("the evidence does not decode", check="qc-encoding") from err
    if info.block.HasField("header"):
        raise MalformedBlock("the evidence carries a second header", check="encoding")
    info.block.header.CopyFrom(header)
    if header.block_height != int(update.height) or header.chain_id != str(update.chain_id):
        raise InvalidHeader("the update's height or chain is not its header's", check="label")
    if encode_evidence(info) != update.evidence:
        raise MalformedBlock("the evidence is not in canonical form", check="qc-encoding")
    return info


class ChainMakerLightClient:
    """``LightClient`` over ``proofs.chainmaker``: pure, ``now`` passed in (unix seconds)."""

    def verify_header(
        self, client_state: object, trusted: object, header: HeaderUpdate, now: int
    ) -> ChainMakerConsensus:
        client, base = _client(client_state), _consensus(trusted)
        info = decode_update(header)
        new = update_client(client.params, base.trusted, info, now)
        return ChainMakerConsensus(new, encode(info.block.header))

    def verify_membership(self, consensus_state: object, proof: InclusionProof) -> None:
        """A transaction (or its read-write set) at an index of the verified block."""
        state = _consensus(consensus_state)
        if not proof.value:
            raise BadProof("ChainMaker proves inclusion only, not absence", check="absence")
        if int(proof.height) != state.trusted.height:
            raise RootMismatch("the proof is for another height", check="height")
        if str(proof.chain_id) != state.trusted.trust.chain_id:
            raise RootMismatch("the proof is for another chain", check="chain")
        if len(proof.key) != 8:
            raise BadProof("the key is an 8-byte index", check="key")
        index = int.from_bytes(proof.key, "big")
        header, trust = state.parsed_header(), state.trusted.trust
        try:
            if proof.kind == TX_PROOF_KIND:
                tx = pb.Transaction()
                tx.ParseFromString(proof.value)
                verify_tx_inclusion(header, tx, index, list(proof.nodes), trust)
            elif proof.kind == RWSET_PROOF_KIND:
                rwset = pb.TxRWSet()
                rwset.ParseFromString(proof.value)
                verify_rwset_inclusion(header, rwset, index, list(proof.nodes), trust)
            else:
                raise BadProof(f"unknown proof kind {proof.kind!r}", check="kind")
        except DecodeError as err:
            raise BadEncoding("the proven value does not decode") from err

    def check_misbehaviour(
        self, client_state: object, header_a: HeaderUpdate, header_b: HeaderUpdate
    ) -> bool:
        """Two headers of one height, both certified by a trusted configuration, differing."""
        client = _client(client_state)
        info_a, info_b = decode_update(header_a), decode_update(header_b)
        if info_a.block.header.block_height != info_b.block.header.block_height:
            return False
        verified = []
        for info in (info_a, info_b):
            trust = client.trust_at(info.block.header.pre_conf_height)
            verified.append(verify_block(info, trust))
        return verified[0].block_hash != verified[1].block_hash


def _client(state: object) -> ChainMakerClient:
    if not isinstance(state, ChainMakerClient):
        raise ConfigError("not a ChainMaker client state")
    return state


def _consensus(state: object) -> ChainMakerConsensus:
    if not isinstance(state, ChainMakerConsensus):
        raise ConfigError("not a ChainMaker consensus state")
    return state


__all__ = [
    "RWSET_PROOF_KIND",
    "TX_PROOF_KIND",
    "ChainMakerClient",
    "ChainMakerConsensus",
    "ChainMakerLightClient",
    "decode_header",
    "decode_update",
    "encode_evidence",
]

"""Verification of one ChainMaker block: header, proposer, TBFT quorum certificate, body, proofs.

Pure: no I/O and no clock (certificates are checked at the block's own time).

Header (:func:`verify_block`), in order, cheapest first; each failure raises
the typed error of :mod:`proofs.chainmaker.errors`:

1. ``chainmaker-chain-id``: ``header.chain_id`` is the trust's;
2. ``chainmaker-config-unknown``: ``header.pre_conf_height`` is the height of
   the configuration the trust holds (the validators in force);
3. ``chainmaker-block-hash``: ``H(header)`` without ``block_hash`` and
   ``signature`` equals ``block_hash``;
4. quorum certificate, cheap part (:func:`validate_quorum_certificate`):
   ``chainmaker-malformed`` (decodes), ``chainmaker-maj23`` (a PRECOMMIT set of
   this height whose ``maj23`` is the block hash), ``chainmaker-vote-mismatch``
   (each vote's key is its ``voter``, its type, height and round the set's),
   ``chainmaker-duplicate-vote`` (a node id once), ``chainmaker-unknown-voter``
   (a validator), ``chainmaker-voter-binding`` (the signer's org is the node's
   and its pinned certificate or key, if any), ``chainmaker-insufficient-votes``
   (votes for the block from more than 2/3 of the validators);
5. ``chainmaker-unknown-proposer``: the proposer is bound to a validator;
6. identities: ``chainmaker-untrusted-identity`` (certificates issued by the
   org's CA, valid at the block time, role consensus; public keys pinned),
   ``chainmaker-duplicate-signer`` (one key per node id);
7. ``chainmaker-proposer-signature`` over the block hash, then
   ``chainmaker-vote-signature`` over each vote without its endorsement.

Votes for another hash (nil or a competing block) may sit in a real set: they
are checked for form but neither counted nor required to verify.

Body (:func:`verify_block_body`, a full ``BlockInfo``): ``chainmaker-tx-count``,
``chainmaker-tx-root`` (v2.3 transaction hashes), ``chainmaker-rwset-hash``,
``chainmaker-rwset-root``, ``chainmaker-dag-hash``.

Transaction signatures (:func:`verify_tx_signatures`, not part of block validity:
the quorum certified the block): sender, endorsers and payer over the encoded
payload, ``chainmaker-tx-signature``; a ``CERT_HASH`` signer is resolved through
certificates the caller supplies (:func:`compute_block_certs` collects those a block's
own read-write sets read from ``CERT_MANAGE``, each checked against its hash).

SECURITY: ChainMaker's own block sync verifies each vote's signature but not
that the signer is the node named by ``voter``; a single validator's key could
then fill a certificate with votes "from" several node ids. Steps 4 (binding)
and 6 (distinct signers) close that.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.serialization import Encoding

from proofs.chainmaker.encoding import (
    TBFT_QC_KEY,
    compute_block_hash,
    compute_dag_hash,
    compute_merkle_root,
    compute_rwset_hash,
    compute_tx_hash,
    compute_vote_payload,
    decode_vote_set,
    encode,
    verify_merkle_path,
)
from proofs.chainmaker.errors import (
    BadProposerSignature,
    BadTxSignature,
    BadVoteSignature,
    BlockHashMismatch,
    ChainIdMismatch,
    DagHashMismatch,
    DuplicateSigner,
    DuplicateVote,
    InsufficientVotes,
    Maj23Mismatch,
    MalformedBlock,
    RwSetHashMismatch,
    RwSetRootMismatch,
    TxCountMismatch,
    TxRootMismatch,
    UnknownConfig,
    UnknownProposer,
    UnknownVoter,
    VoteMismatch,
    VoterBindingMismatch,
)
from proofs.chainmaker.identity import (
    MEMBER_CERT,
    MEMBER_PUBLIC_KEY,
    ChainTrust,
    PublicKey,
    Validator,
    is_bound,
    load_certificate,
    load_public_key,
    member_identity,
    validate_identity,
    verify_member_signature,
)
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import HashFunction


@dataclass(frozen=True, slots=True)
class VerifiedBlock:
    """What a verified header gives: its hash, height, time and the node ids that signed."""

    height: int
    block_hash: bytes
    timestamp: int
    pre_conf_height: int
    signers: tuple[str, ...]


def compute_quorum(count: int) -> int:
    """Fewest votes that are more than 2/3 of ``count`` equal validators."""
    return 2 * count // 3 + 1


def validate_quorum_certificate(
    header: pb.BlockHeader, block_hash: bytes, qc: bytes, trust: ChainTrust
) -> list[tuple[Validator, pb.Vote]]:
    """The cheap checks of the TBFT certificate (step 4); the votes for the block, bound."""
    vote_set, entries = decode_vote_set(qc)
    if vote_set.type != pb.VOTE_PRECOMMIT or vote_set.height != header.block_height:
        raise Maj23Mismatch(
            "the certificate is not a PRECOMMIT vote set of this height", check="vote-set"
        )
    if vote_set.maj23 != block_hash:
        raise Maj23Mismatch("the certificate's maj23 is not the block hash", check="maj23")
    seen: set[str] = set()
    counted: list[tuple[Validator, pb.Vote]] = []
    for key, vote in entries:
        if (
            key != vote.voter
            or vote.type != vote_set.type
            or vote.height != vote_set.height
            or vote.round != vote_set.round
        ):
            raise VoteMismatch(
                f"the vote of {key} is not a vote of its set", check="vote-fields", voter=key
            )
        if key in seen:
            raise DuplicateVote(f"{key} votes twice", voter=key)
        seen.add(key)
        validator = trust.validator(key)
        if validator is None:
            raise UnknownVoter(f"{key} is not a validator of config {trust.config_height}")
        if vote.hash != block_hash:
            continue
        identity, _, _ = member_identity(vote.endorsement.signer)
        if not is_bound(vote.endorsement.signer, identity, validator):
            raise VoterBindingMismatch(
                f"the vote of {key} is signed by an identity not bound to it", voter=key
            )
        counted.append((validator, vote))
    needed = compute_quorum(len(trust.validators))
    if len(counted) < needed:
        raise InsufficientVotes(
            f"{len(counted)} of {len(trust.validators)} validators signed, {needed} needed",
            signed=len(counted),
            needed=needed,
        )
    return counted


def verify_block(info: pb.BlockInfo, trust: ChainTrust) -> VerifiedBlock:
    """Verify the header, proposer and quorum certificate of ``info.block`` (module table)."""
    header = info.block.header
    if header.chain_id != trust.chain_id:
        raise ChainIdMismatch(f"block of chain {header.chain_id!r}, trust for {trust.chain_id!r}")
    if header.pre_conf_height != trust.config_height:
        raise UnknownConfig(
            f"block under config {header.pre_conf_height}, trust holds {trust.config_height}",
            pre_conf_height=header.pre_conf_height,
        )
    hash_fn = trust.hash_fn
    block_hash = compute_block_hash(header, hash_fn)
    if block_hash != header.block_hash:
        raise BlockHashMismatch("the header does not hash to its block_hash")
    qc = info.block.additional_data.extra_data.get(TBFT_QC_KEY)
    if qc is None:
        raise MalformedBlock("the block carries no TBFT quorum certificate", check="qc-missing")
    votes = validate_quorum_certificate(header, block_hash, qc, trust)

    proposer = header.proposer
    proposer_id, _, _ = member_identity(proposer)
    candidates = [v for v in trust.validators if is_bound(proposer, proposer_id, v)]
    if not candidates:
        raise UnknownProposer(f"the proposer of org {proposer.org_id!r} is not a validator")
    time_s = header.block_timestamp
    proposer_key, _ = validate_identity(proposer, trust, time_s, candidates)
    keys: dict[PublicKey, str] = {}
    checked: list[tuple[PublicKey, pb.Vote]] = []
    for validator, vote in votes:
        key, _ = validate_identity(vote.endorsement.signer, trust, time_s, [validator])
        if key in keys:
            raise DuplicateSigner(
                f"one key signs for {keys[key]} and {validator.node_id}", voter=validator.node_id
            )
        keys[key] = validator.node_id
        checked.append((key, vote))

    if not verify_member_signature(proposer_key, block_hash, header.signature, hash_fn):
        raise BadProposerSignature("the proposer's signature over the block hash does not verify")
    for key, vote in checked:
        if not verify_member_signature(
            key, compute_vote_payload(vote), vote.endorsement.signature, hash_fn
        ):
            raise BadVoteSignature(f"the vote of {vote.voter} does not verify", voter=vote.voter)
    return VerifiedBlock(
        height=header.block_height,
        block_hash=block_hash,
        timestamp=header.block_timestamp,
        pre_conf_height=header.pre_conf_height,
        signers=tuple(vote.voter for _, vote in votes),
    )


def compute_tx_hashes(info: pb.BlockInfo, trust: ChainTrust) -> list[bytes]:
    """The leaves of ``tx_root``, by the block version's rule."""
    version = info.block.header.block_version
    return [compute_tx_hash(tx, version, trust.hash_fn) for tx in info.block.txs]


def verify_block_body(info: pb.BlockInfo, trust: ChainTrust) -> None:
    """The body of a full ``BlockInfo`` against its (already verified) header."""
    header, hash_fn = info.block.header, trust.hash_fn
    txs = info.block.txs
    if len(txs) != header.tx_count or len(info.rwset_list) != header.tx_count:
        raise TxCountMismatch(
            f"{len(txs)} transactions and {len(info.rwset_list)} rw sets, tx_count "
            f"{header.tx_count}"
        )
    if header.tx_count == 0:
        return
    if compute_merkle_root(compute_tx_hashes(info, trust), hash_fn) != header.tx_root:
        raise TxRootMismatch("the transactions do not hash to tx_root")
    rw_hashes = []
    for tx, rwset in zip(txs, info.rwset_list, strict=True):
        rw_hash = compute_rwset_hash(rwset, hash_fn)
        if rwset.tx_id != tx.payload.tx_id or rw_hash != tx.result.rw_set_hash:
            raise RwSetHashMismatch(f"the rw set of {tx.payload.tx_id} is not its result's")
        rw_hashes.append(rw_hash)
    if compute_merkle_root(rw_hashes, hash_fn) != header.rw_set_root:
        raise RwSetRootMismatch("the rw sets do not hash to rw_set_root")
    if compute_dag_hash(info.block.dag, hash_fn) != header.dag_hash:
        raise DagHashMismatch("the DAG does not hash to dag_hash")


def verify_tx_inclusion(
    header: pb.BlockHeader,
    tx: pb.Transaction,
    index: int,
    path: Sequence[bytes],
    trust: ChainTrust,
) -> None:
    """``tx`` is transaction ``index`` of the (verified) ``header`` (v2.3 hash rule)."""
    leaf = compute_tx_hash(tx, header.block_version, trust.hash_fn)
    verify_merkle_path(leaf, index, path, header.tx_root, header.tx_count, trust.hash_fn)


def verify_rwset_inclusion(
    header: pb.BlockHeader,
    rwset: pb.TxRWSet,
    index: int,
    path: Sequence[bytes],
    trust: ChainTrust,
) -> None:
    """``rwset`` is the read-write set of transaction ``index`` of the (verified) ``header``."""
    leaf = compute_rwset_hash(rwset, trust.hash_fn)
    verify_merkle_path(leaf, index, path, header.rw_set_root, header.tx_count, trust.hash_fn)


CERT_MANAGE_CONTRACT = "CERT_MANAGE"
MEMBER_CERT_HASH = pb.CERT_HASH


def compute_cert_hash(cert: bytes, hash_fn: HashFunction) -> bytes:
    """The ``CERT_HASH`` of a certificate (PEM or DER): the chain hash of its DER."""
    cert_obj, _ = load_certificate(cert)
    return hash_fn(cert_obj.public_bytes(Encoding.DER))


def compute_block_certs(info: pb.BlockInfo, hash_fn: HashFunction) -> dict[bytes, bytes]:
    """``cert hash -> certificate`` from the ``CERT_MANAGE`` reads of a block's rw sets.

    A read is kept only when its value is a certificate whose hash is the read's
    key (hex), so a body cannot map a hash to another certificate.
    """
    certs: dict[bytes, bytes] = {}
    for rwset in info.rwset_list:
        for read in rwset.tx_reads:
            if read.contract_name != CERT_MANAGE_CONTRACT or not read.value:
                continue
            try:
                wanted = bytes.fromhex(read.key.decode())
                if compute_cert_hash(bytes(read.value), hash_fn) == wanted:
                    certs[wanted] = bytes(read.value)
            except (ValueError, UnicodeDecodeError, MalformedBlock):
                continue
    return certs


def _signer_key(
    member: pb.Member, certs: Mapping[bytes, bytes], hash_fn: HashFunction
) -> PublicKey:
    if member.member_type == MEMBER_CERT:
        return load_certificate(bytes(member.member_info))[1]
    if member.member_type == MEMBER_PUBLIC_KEY:
        return load_public_key(bytes(member.member_info))
    if member.member_type == MEMBER_CERT_HASH:
        cert = certs.get(bytes(member.member_info))
        if cert is None or compute_cert_hash(cert, hash_fn) != bytes(member.member_info):
            raise MalformedBlock(
                f"no certificate for the cert hash {bytes(member.member_info).hex()}",
                check="cert-hash",
            )
        return load_certificate(cert)[1]
    raise MalformedBlock(f"unsupported signer type {member.member_type}", check="member-type")


def verify_tx_signatures(
    tx: pb.Transaction, trust: ChainTrust, certs: Mapping[bytes, bytes] | None = None
) -> None:
    """Sender, endorsers and payer signed the encoded payload (signatures only: whether
    the signer may send or endorse is the chain's policy, which its nodes applied)."""
    hash_fn, certs = trust.hash_fn, certs or {}
    message = encode(tx.payload)
    entries = [("sender", tx.sender), *(("endorser", e) for e in tx.endorsers)]
    if tx.HasField("payer"):
        entries.append(("payer", tx.payer))
    for role, entry in entries:
        key = _signer_key(entry.signer, certs, hash_fn)
        if not verify_member_signature(key, message, entry.signature, hash_fn):
            raise BadTxSignature(
                f"the {role} signature of {tx.payload.tx_id} does not verify", role=role
            )

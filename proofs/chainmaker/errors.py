"""The typed refusals of the ChainMaker verifier (``core.errors`` subclasses, stable codes).

One class per check, so a test asserts the exact reason and an operator greps
one code; ``details["check"]`` repeats it in words where one class covers
several fields (``chainmaker-vote-mismatch``).
"""

from __future__ import annotations

from core.errors import (
    BadEncoding,
    BadProof,
    BadSignature,
    HeaderExpired,
    InsufficientPower,
    InvalidHeader,
    RootMismatch,
)


class MalformedBlock(BadEncoding):
    """A block, vote set, certificate or key does not decode."""

    code = "chainmaker-malformed"


class ChainIdMismatch(InvalidHeader):
    """The block is for another chain than the trusted configuration."""

    code = "chainmaker-chain-id"


class UnknownConfig(InvalidHeader):
    """The block's ``pre_conf_height`` names a chain configuration the verifier does not hold."""

    code = "chainmaker-config-unknown"


class BlockHashMismatch(InvalidHeader):
    """``block_hash`` is not the hash of the header without ``block_hash`` and ``signature``."""

    code = "chainmaker-block-hash"


class UnknownProposer(BadSignature):
    """The proposer is not a consensus node of the configuration in force."""

    code = "chainmaker-unknown-proposer"


class BadProposerSignature(BadSignature):
    """The proposer's signature over the block hash does not verify."""

    code = "chainmaker-proposer-signature"


class Maj23Mismatch(InvalidHeader):
    """The quorum certificate is not a PRECOMMIT set of this height with ``maj23`` the block."""

    code = "chainmaker-maj23"


class VoteMismatch(InvalidHeader):
    """A vote of the certificate is of another type, height or round than its set."""

    code = "chainmaker-vote-mismatch"


class DuplicateVote(BadSignature):
    """A node id votes twice in one certificate."""

    code = "chainmaker-duplicate-vote"


class UnknownVoter(BadSignature):
    """A vote names a node id that is not a validator of the configuration in force."""

    code = "chainmaker-unknown-voter"


class VoterBindingMismatch(BadSignature):
    """A vote's signer is not the identity bound to its node id (org, pinned cert or key).

    ChainMaker's own block-sync check verifies each vote's signature but not
    that its signer belongs to the ``voter`` node: without this check one
    validator's key could cast the votes of several node ids.
    """

    code = "chainmaker-voter-binding"


class DuplicateSigner(BadSignature):
    """One key signs the votes of two node ids."""

    code = "chainmaker-duplicate-signer"


class UntrustedIdentity(BadSignature):
    """A certificate is not issued by its org's CA, is outside its validity, or lacks the role."""

    code = "chainmaker-untrusted-identity"


class BadVoteSignature(BadSignature):
    """A vote's signature does not verify."""

    code = "chainmaker-vote-signature"


class InsufficientVotes(InsufficientPower):
    """No more than 2/3 of the validators signed the block."""

    code = "chainmaker-insufficient-votes"


class BadTxSignature(BadSignature):
    """A transaction's sender, endorser or payer signature over its payload does not verify."""

    code = "chainmaker-tx-signature"


class TxCountMismatch(InvalidHeader):
    """The body holds another number of transactions or read-write sets than ``tx_count``."""

    code = "chainmaker-tx-count"


class TxRootMismatch(RootMismatch):
    """The transactions do not hash to ``tx_root``."""

    code = "chainmaker-tx-root"


class RwSetHashMismatch(RootMismatch):
    """A read-write set does not hash to its transaction's ``result.rw_set_hash``."""

    code = "chainmaker-rwset-hash"


class RwSetRootMismatch(RootMismatch):
    """The read-write sets do not hash to ``rw_set_root``."""

    code = "chainmaker-rwset-root"


class DagHashMismatch(RootMismatch):
    """The DAG does not hash to ``dag_hash``."""

    code = "chainmaker-dag-hash"


class BadMerklePath(BadProof):
    """A Merkle path is malformed: index past ``tx_count``, length not the tree depth, bad step."""

    code = "chainmaker-merkle-path"


class ProofRootMismatch(RootMismatch):
    """A well-formed Merkle path folds to another root than the header's."""

    code = "chainmaker-proof-root"


class NonIncreasingHeight(InvalidHeader):
    """The block is not above the trusted height."""

    code = "chainmaker-non-increasing-height"


class NonIncreasingTime(InvalidHeader):
    """The block's time is before the trusted block's time."""

    code = "chainmaker-non-increasing-time"


class HeaderFromFuture(InvalidHeader):
    """The block's time is past ``now + max_clock_drift``."""

    code = "chainmaker-header-from-future"


class ParentMismatch(InvalidHeader):
    """An adjacent block's ``pre_block_hash`` is not the trusted block's hash."""

    code = "chainmaker-parent-hash"


class TrustExpired(HeaderExpired):
    """The trusted block is older than the trusting period at ``now``."""

    code = "chainmaker-trust-expired"


class BadConfigBlock(InvalidHeader):
    """A configuration block carries no decodable chain configuration, or lacks its body."""

    code = "chainmaker-config-block"


__all__ = [
    "BadConfigBlock",
    "BadMerklePath",
    "BadProposerSignature",
    "BadTxSignature",
    "BadVoteSignature",
    "BlockHashMismatch",
    "ChainIdMismatch",
    "DagHashMismatch",
    "DuplicateSigner",
    "DuplicateVote",
    "HeaderFromFuture",
    "InsufficientVotes",
    "Maj23Mismatch",
    "MalformedBlock",
    "NonIncreasingHeight",
    "NonIncreasingTime",
    "ParentMismatch",
    "ProofRootMismatch",
    "RwSetHashMismatch",
    "RwSetRootMismatch",
    "TrustExpired",
    "TxCountMismatch",
    "TxRootMismatch",
    "UnknownConfig",
    "UnknownProposer",
    "UnknownVoter",
    "UntrustedIdentity",
    "VoteMismatch",
    "VoterBindingMismatch",
]

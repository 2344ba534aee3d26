"""The CometBFT (Tendermint) light client: ed25519 commits, skipping verification, ICS-23.

=================  ===========================================================
module             what it holds
=================  ===========================================================
``types``          headers, commits, validator sets parsed from RPC JSON
``encoding``       the protobuf bytes that are signed (vote sign-bytes) and hashed
``hashing``        header hash and validator-set hash (RFC 6962 via ``proofs.merkle``)
``signatures``     ed25519 through PyNaCl (what libsodium rejects vs ZIP-215)
``verifier``       adjacent / skipping / bisection verification, trust options
``misbehaviour``   conflicting headers -> evidence
``light_client``   the ``core.seams.LightClient`` implementation and freeze
``errors``         typed refusals (``cometbft-*`` codes)
=================  ===========================================================

Pure: no I/O, no clock (``now`` is a parameter). ``docs/cometbft.md`` is the
specification, with the vector results.
"""

from proofs.cometbft.light_client import (
    ICS23_ABSENCE_PROOF_KIND,
    ICS23_PROOF_KIND,
    CometBftLightClient,
    CometClientState,
    decode_envelope,
    freeze,
    trusted_header,
)
from proofs.cometbft.misbehaviour import MisbehaviourEvidence, check_misbehaviour
from proofs.cometbft.types import LightBlock, SignedHeader, ValidatorSet, parse_time
from proofs.cometbft.verifier import (
    DEFAULT_TRUST_LEVEL,
    TrustedBlock,
    TrustOptions,
    verify_adjacent,
    verify_bisection,
    verify_light_block,
    verify_skipping,
)

__all__ = [
    "DEFAULT_TRUST_LEVEL",
    "ICS23_ABSENCE_PROOF_KIND",
    "ICS23_PROOF_KIND",
    "CometBftLightClient",
    "CometClientState",
    "LightBlock",
    "MisbehaviourEvidence",
    "SignedHeader",
    "TrustOptions",
    "TrustedBlock",
    "ValidatorSet",
    "check_misbehaviour",
    "decode_envelope",
    "freeze",
    "parse_time",
    "trusted_header",
    "verify_adjacent",
    "verify_bisection",
    "verify_light_block",
    "verify_skipping",
]

"""Misbehaviour: two valid light blocks that cannot both be honest.

Detected as ibc-go's 07-tendermint ``CheckForMisbehaviour`` does, after both
blocks verified from the same trusted state (without the "from the future"
check, as tendermint-rs ``verify_misbehaviour_header``, so that evidence of
a fork with skewed clocks is still evidence):

* ``fork``: same height, different header hashes (a light-client attack or
  equivocation: more than 1/3 of a trusted set signed two blocks);
* ``time``: the higher block's time is not after the lower one's (BFT time
  must grow with height, so one of the two commits is dishonest).

On evidence the client freezes (:func:`proofs.cometbft.light_client.freeze`).
"""

from __future__ import annotations

from dataclasses import dataclass

from proofs.cometbft.errors import ConflictingHeaders
from proofs.cometbft.types import LightBlock
from proofs.cometbft.verifier import TrustedBlock, TrustOptions, verify_light_block


@dataclass(frozen=True, slots=True)
class MisbehaviourEvidence:
    """Why a client froze: ``kind`` (``fork``/``time``), the heights and hashes involved."""

    kind: str
    height_a: int
    hash_a: bytes
    height_b: int
    hash_b: bytes
    reason: str

    def as_error(self) -> ConflictingHeaders:
        """The evidence as the typed error (for logs and problem+json)."""
        return ConflictingHeaders(
            self.reason,
            check=self.kind,
            height=min(self.height_a, self.height_b),
            hash_a=self.hash_a.hex(),
            hash_b=self.hash_b.hex(),
        )


def check_misbehaviour(
    trusted: TrustedBlock,
    block_a: LightBlock,
    block_b: LightBlock,
    options: TrustOptions,
    now_ns: int,
) -> MisbehaviourEvidence | None:
    """Evidence when both blocks verify from ``trusted`` and conflict; ``None`` when they agree.

    Raises the block's ``VerificationError`` when either block is invalid: an
    invalid header is no evidence (anyone can make one up).
    """
    a = verify_light_block(trusted, block_a, options, now_ns, check_future=False)
    b = verify_light_block(trusted, block_b, options, now_ns, check_future=False)
    if a.height == b.height:
        if a.hash == b.hash:
            return None
        return MisbehaviourEvidence(
            "fork",
            a.height,
            a.hash,
            b.height,
            b.hash,
            f"two valid headers at height {a.height}: {a.hash.hex()} and {b.hash.hex()}",
        )
    low, high = (a, b) if a.height < b.height else (b, a)
    if high.time_ns <= low.time_ns:
        return MisbehaviourEvidence(
            "time",
            low.height,
            low.hash,
            high.height,
            high.hash,
            f"header {high.height} is not later than header {low.height} (BFT time violation)",
        )
    return None


__all__ = ["MisbehaviourEvidence", "check_misbehaviour"]

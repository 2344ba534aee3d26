"""Finality of EVM headers as pluggable policies.

A header that links to the trusted checkpoint (:mod:`proofs.evm.chain`) is
*on* the chain the checkpoint started; whether it can be *reverted* is the
chain's consensus rule. Each rule is a :class:`FinalityPolicy`:

================================  ==========================  ===============================
policy                            chains                      a header is final when
================================  ==========================  ===============================
:class:`ConfirmationDepth`        dev chains (anvil)          ``depth`` descendants link to it
:class:`~proofs.evm.bft.          QBFT / IBFT 2.0 consortium  its committed seals verify
BftFinality`                      chains (Besu, GoQuorum)     (immediate finality)
:class:`~proofs.evm.sync_         Ethereum proof of stake     the sync-committee light client
committee.SyncCommitteeFinality`                              finalized its execution block
================================  ==========================  ===============================

:func:`verify_final_header` is the one entry point the adapter calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.errors import ConfigError, InsufficientPower
from proofs.evm.chain import HeaderRules, validate_header_chain
from proofs.evm.header import EvmHeader, compute_header_hash


@runtime_checkable
class FinalityPolicy(Protocol):
    """Decides which header of a segment descending from a trusted header is final.

    CONTRACT: ``validate_finality(trusted, headers)`` receives ``headers`` in
    ascending order, the first being ``trusted``'s child; it checks the links
    itself (with :meth:`compute_hash`) and returns the newest final header,
    or raises a ``VerificationError`` (``InsufficientPower`` when nothing in
    the segment is final yet). It is pure: no I/O, no clock.
    """

    name: str

    def compute_hash(self, header: EvmHeader) -> bytes:
        """The chain's block hash of ``header`` (what children store as ``parentHash``)."""
        ...

    def validate_finality(self, trusted: EvmHeader, headers: Sequence[EvmHeader]) -> EvmHeader:
        """The newest final header of ``headers`` (see the class contract)."""
        ...


@dataclass(frozen=True, slots=True)
class ConfirmationDepth:
    """A header is final once ``depth`` descendants are linked to it.

    ``depth=0`` makes the newest linked header final (instant-mining dev chains).

    SECURITY: probabilistic or none at all. On anvil (one honest sequencer
    controlled by the test) it is exact; on any chain where one party can
    produce blocks alone it only measures how much work a reorg would take,
    never that a reorg is impossible. Not for value-bearing public routes.
    """

    depth: int
    name: str = "confirmation-depth"

    def __post_init__(self) -> None:
        if isinstance(self.depth, bool) or not isinstance(self.depth, int) or self.depth < 0:
            raise ConfigError("confirmation depth must be a non-negative integer")

    def compute_hash(self, header: EvmHeader) -> bytes:
        return compute_header_hash(header)

    def validate_finality(self, trusted: EvmHeader, headers: Sequence[EvmHeader]) -> EvmHeader:
        validate_header_chain(trusted, headers, hasher=self.compute_hash)
        if len(headers) <= self.depth:
            raise InsufficientPower(
                f"{len(headers)} header(s) after {trusted.number}; a header needs "
                f"{self.depth} descendant(s) to be final",
                height=trusted.number + len(headers),
                depth=self.depth,
            )
        return headers[len(headers) - 1 - self.depth]


def verify_final_header(
    policy: FinalityPolicy,
    trusted: EvmHeader,
    headers: Sequence[EvmHeader],
    *,
    rules: HeaderRules | None = None,
) -> EvmHeader:
    """Check ``rules`` on every link, then return the policy's newest final header.

    Checks: the optional header ``rules`` link by link (with the policy's hash;
    :func:`~proofs.evm.chain.validate_header_chain`), then the policy (which
    checks the links itself). The trusted header is never re-verified: it is
    the caller's checkpoint.
    """
    if rules is not None:
        validate_header_chain(trusted, headers, hasher=policy.compute_hash, rules=rules)
    return policy.validate_finality(trusted, headers)

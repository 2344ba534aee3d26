"""The seams between the layers, as ``typing.Protocol``s with their contracts.

A chain family implements :class:`ChainAdapter` (talks to one chain, never
verifies, never loops) and :class:`LightClient` (pure, synchronous: state in,
new state out; persistence is the caller's). A route's trust model is a
:class:`TransferProtocol` advanced one idempotent step at a time. The store is
a unit of work with compare-and-set transitions.

Markers used in these docstrings: ``CONTRACT:`` an obligation of the caller or
implementer; ``SECURITY:`` a trust assumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from core.ids import ChainId, Height, PacketId
from core.states import TransferState
from core.types import ChainAction, ChainEvent, InclusionProof, TrustedHeader, TxReceipt


@runtime_checkable
class ChainAdapter(Protocol):
    """One chain's RPC, turned into the hub's vocabulary.

    CONTRACT: every method is a read or a single write; no method verifies a
    header or a proof (that is the light client's job) and none loops waiting
    for the chain. Network failures raise ``ChainUnavailable`` (retryable);
    the node refusing a transaction raises ``ChainRejected``. Every network
    await has a timeout.

    SECURITY: everything an adapter returns is untrusted until a light client
    verified it.
    """

    family: str
    """The family name (``"pujiang"``, ``"evm"``, ``"cometbft"``), unique in the registry."""

    chain_id: ChainId

    async def latest_height(self) -> Height:
        """The newest block the node knows (may be reorged away on some families)."""
        ...

    async def finalized_height(self) -> Height:
        """The newest block final by the family's rule (BFT commit, confirmations…)."""
        ...

    async def header(self, height: Height) -> TrustedHeader:
        """The header at ``height`` with the evidence its light client verifies."""
        ...

    async def events(self, start: Height, end: Height) -> Sequence[ChainEvent]:
        """Bridge and HTLC events in ``[start, end]``, in chain order.

        CONTRACT: callers bound the range; adapters may split it into chunks.
        """
        ...

    async def prove(self, event: ChainEvent) -> InclusionProof:
        """The inclusion proof of ``event`` against the root of its header."""
        ...

    async def submit(self, action: ChainAction) -> bytes:
        """Send ``action`` and return its transaction hash without waiting.

        CONTRACT: submitting the same ``idempotency_key`` twice must not
        execute twice (the destination contract/module rejects replays).
        """
        ...

    async def receipt(self, tx_hash: bytes) -> TxReceipt:
        """The receipt of a submitted transaction (pending fields ``None``)."""
        ...

    def light_client(self) -> LightClient:
        """The light client that verifies this chain's headers."""
        ...


@runtime_checkable
class LightClient(Protocol):
    """Pure verification of a chain's headers and of proofs against them.

    ``client_state`` holds the parameters (chain id, trusting period, trust
    level, frozen flag); ``consensus_state`` what was verified at one height
    (time, roots, next validators). Both are family-defined and opaque here.

    CONTRACT: no I/O and no clock reads; ``now`` is a parameter (unix seconds).
    Every ``verify_*`` raises a ``VerificationError`` subclass naming the first
    failed check, and returns only on success.
    """

    def verify_header(
        self, client_state: object, trusted: object, header: TrustedHeader, now: int
    ) -> object:
        """Verify ``header`` from the ``trusted`` consensus state; return the new one.

        Adjacent or skipping verification by the family's rule, within the
        trusting period, across validator-set rotation.

        SECURITY: a frozen client raises ``ClientFrozen`` before any check.
        """
        ...

    def verify_membership(self, consensus_state: object, proof: InclusionProof) -> None:
        """Check that ``proof.key`` holds ``proof.value`` under the verified root."""
        ...

    def check_misbehaviour(
        self, client_state: object, header_a: TrustedHeader, header_b: TrustedHeader
    ) -> bool:
        """True when both headers are valid and conflict (same height, different hash).

        CONTRACT: on True the caller freezes the client and persists that.
        """
        ...


@runtime_checkable
class TransferProtocol(Protocol):
    """A route's trust model (``notary``, ``htlc``, ``light_client``) as a state machine.

    CONTRACT: ``step`` advances one transfer by at most one transition, is
    idempotent (calling it again after a crash repeats nothing that already
    reached a chain), and records what it will send before sending it.
    """

    name: str

    async def step(self, packet: PacketId, state: TransferState) -> TransferState:
        """Do the work that leads out of ``state`` and return the new state."""
        ...


@runtime_checkable
class Store(Protocol):
    """Persistence as a unit of work.

    CONTRACT: ``transition`` is compare-and-set: it succeeds only when the
    stored state still equals ``expected`` and the move is in the transition
    table; otherwise it raises ``InvalidTransition`` or ``LeaseLost``.
    """

    def transition(
        self, packet: PacketId, expected: TransferState, new: TransferState, reason: str
    ) -> None: ...

    def cursor(self, chain_id: ChainId) -> Height | None:
        """The last height whose events were fully processed for ``chain_id``."""
        ...

    def advance_cursor(self, chain_id: ChainId, height: Height) -> None: ...

    def record_action(self, packet: PacketId, action: ChainAction) -> None:
        """Journal an action before it is sent (the crash-safety rule)."""
        ...


def is_chain_adapter(obj: object) -> bool:
    """Structural check used by the adapter registry (never raises)."""
    return isinstance(obj, ChainAdapter)


__all__ = [
    "ChainAction",
    "ChainAdapter",
    "ChainEvent",
    "InclusionProof",
    "LightClient",
    "Store",
    "TransferProtocol",
    "TrustedHeader",
    "TxReceipt",
    "is_chain_adapter",
]

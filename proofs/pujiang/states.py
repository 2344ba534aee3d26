"""The state of a Pujiang light client, and the checks that only read it.

:class:`ClientState` holds the parameters (chain id, hash profile, trusting
period, clock drift; trust level fixed at 1/3) and, after misbehaviour, the
freeze and its evidence. :class:`ConsensusState` is what one verified header
says (height, hash, time, roots with their leaf counts) plus the decoded
validator sets (this height's, and the next one when known), their keys
checked once. Both are immutable: every change is a new object the caller
persists.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from core.errors import (
    BadEncoding,
    ClientFrozen,
    HeaderExpired,
    InvalidHeader,
    InvalidInput,
    Misbehaviour,
)
from proofs.hashing import HashFunction
from proofs.pujiang import codec
from proofs.pujiang.codec import Commit, Header
from proofs.pujiang.commit import ValidatorSet, decode_with_check

TRUST_LEVEL: Final = Fraction(1, 3)
"""Fixed: skipping needs more than this share of the trusted set (``codec.has_trust_overlap``)."""


@dataclass(frozen=True, slots=True)
class MisbehaviourEvidence:
    """Why a client froze: two valid headers that cannot both be honest.

    ``kind``: ``fork`` (two headers at one height) or ``time`` (a valid header
    whose time breaks monotonicity against a verified neighbour). ``headers``
    holds ``rlp([header, commit, validators])`` of each offending header, so
    the evidence can be stored, shown, or handed to the chain's operators.
    """

    kind: str
    height: int
    trusted_hash: bytes
    conflicting_hash: bytes
    headers: tuple[bytes, ...]
    reason: str

    def as_error(self) -> Misbehaviour:
        """The evidence as the typed error (for logs and problem+json)."""
        return Misbehaviour(
            self.reason,
            check=self.kind,
            height=self.height,
            trusted_hash=self.trusted_hash.hex(),
            conflicting_hash=self.conflicting_hash.hex(),
        )


@dataclass(frozen=True, slots=True)
class ClientState:
    """The parameters of one Pujiang light client, and its freeze.

    ``chain_id`` is the subchain's id as bytes (a ``str`` is UTF-8 encoded);
    ``hash_profile`` is ``sha256`` or ``sm3``; times in milliseconds. The trust
    level is not a parameter: it is :data:`TRUST_LEVEL` (1/3).
    """

    chain_id: bytes
    trusting_period_ms: int
    max_clock_drift_ms: int
    hash_profile: str = "sha256"
    frozen_height: int = 0
    evidence: MisbehaviourEvidence | None = None

    def __post_init__(self) -> None:
        chain_id = self.chain_id
        if isinstance(chain_id, str):
            chain_id = chain_id.encode()
        if not isinstance(chain_id, bytes) or not 1 <= len(chain_id) <= 63:
            raise InvalidInput("a Pujiang chain id is 1..63 bytes", field="chain_id")
        object.__setattr__(self, "chain_id", chain_id)
        require_int(self.trusting_period_ms, "trusting_period_ms", minimum=1)
        require_int(self.max_clock_drift_ms, "max_clock_drift_ms", minimum=0)
        require_int(self.frozen_height, "frozen_height", minimum=0)
        codec.hash_profile(self.hash_profile)
        if (self.frozen_height > 0) != (self.evidence is not None):
            raise InvalidInput("a frozen client has a frozen height and evidence, both or neither")

    @property
    def frozen(self) -> bool:
        return self.frozen_height > 0

    @property
    def hash_fn(self) -> HashFunction:
        return codec.hash_profile(self.hash_profile)

    @property
    def trust_level(self) -> Fraction:
        return TRUST_LEVEL


@dataclass(frozen=True, eq=False, slots=True)
class ConsensusState:
    """What one verified header says, with the sets that sign it and the next height.

    ``validators`` signs this height (accepted: keys and PoPs checked);
    ``next_validators`` signs ``height + 1`` when known (the same object when
    the set does not change), else ``None`` and only its hash is kept.
    Two states are equal when they are the same header (height and hash).
    """

    height: int
    header_hash: bytes
    time_ms: int
    state_root: bytes
    state_size: int
    events_root: bytes
    event_count: int
    validators: ValidatorSet
    next_validators_hash: bytes
    next_validators: ValidatorSet | None = None
    hash_profile: str = "sha256"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConsensusState):
            return NotImplemented
        return (self.height, self.header_hash) == (other.height, other.header_hash)

    def __hash__(self) -> int:
        return hash((self.height, self.header_hash))


@dataclass(frozen=True, slots=True)
class Update:
    """The outcome of :func:`process_update`: a new state, or a frozen client.

    ``consensus_state`` is ``None`` when the client froze; ``duplicate`` when
    the header was already verified (nothing to store).
    """

    client_state: ClientState
    consensus_state: ConsensusState | None
    duplicate: bool = False

    @property
    def frozen(self) -> bool:
        return self.client_state.frozen


SignedHeader = tuple[bytes, bytes, bytes]
"""``(header, commit, validators)``: the canonical bytes of each, as the chain serves them."""

Fetch = Callable[[int], Sequence[bytes]]
"""``fetch(height) -> (header, commit, validators)``; supplied by the caller (it does the I/O)."""


# --- checks that read the state ------------------------------------------------------------


def require_int(value: object, name: str, *, minimum: int) -> int:
    """``value`` when it is an int (not a bool) of at least ``minimum``, else ``InvalidInput``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInput(f"{name} must be an integer of at least {minimum}", field=name)
    return value


def validate_active(client: ClientState) -> None:
    """``ClientFrozen`` when the client froze: the first check of every entry point."""
    if client.frozen:
        raise ClientFrozen(
            f"the light client of {client.chain_id!r} froze at height {client.frozen_height}",
            check="frozen",
            height=client.frozen_height,
        )


def is_within_trusting_period(client: ClientState, state: ConsensusState, now_ms: int) -> bool:
    """Whether ``state`` may still be trusted at ``now_ms``."""
    return now_ms < state.time_ms + client.trusting_period_ms


def validate_trusting_period(client: ClientState, state: ConsensusState, now_ms: int) -> None:
    """``HeaderExpired`` (check ``trusting-period``) once ``state`` is too old to trust."""
    if not is_within_trusting_period(client, state, now_ms):
        raise HeaderExpired(
            f"trusted state at height {state.height} expired at "
            f"{state.time_ms + client.trusting_period_ms} ms (now {now_ms} ms)",
            check="trusting-period",
            height=state.height,
        )


def validate_clock_drift(client: ClientState, header: Header, now_ms: int) -> None:
    """``InvalidHeader`` (check ``clock-drift``) for a header from the future."""
    if header.time_ms > now_ms + client.max_clock_drift_ms:
        raise InvalidHeader(
            f"header time {header.time_ms} ms is in the future (now {now_ms} ms, "
            f"drift {client.max_clock_drift_ms} ms)",
            check="clock-drift",
        )


def validate_chain_id(client: ClientState, header: Header) -> None:
    """``InvalidHeader`` (check ``chain-id``) for a header of another subchain."""
    if header.chain_id != client.chain_id:
        raise InvalidHeader(
            f"header of chain {header.chain_id!r}, the client follows {client.chain_id!r}",
            check="chain-id",
        )


def decode_header_bytes(client: ClientState, data: bytes) -> tuple[Header, bytes]:
    """The header and ``H(header)``; strict decoding makes the given bytes canonical."""
    if not isinstance(data, bytes | bytearray):
        raise BadEncoding("header must be bytes", check="encoding", object="header")
    header = decode_with_check(codec.decode_header, bytes(data), "header")
    return header, client.hash_fn(bytes(data))


def decode_commit_bytes(data: bytes) -> Commit:
    """The commit, strictly decoded (``BadEncoding``, check ``encoding``)."""
    if not isinstance(data, bytes | bytearray):
        raise BadEncoding("commit must be bytes", check="encoding", object="commit")
    return decode_with_check(codec.decode_commit, bytes(data), "commit")

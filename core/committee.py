"""Committee rotations, chain-neutral: what the CURRENT notary committee of a chain signs
to hand that chain's bridge over to the next one (issue #20, ``docs/notary.md``).

A ``RotationStatement`` names the chain whose bridge rotates, the next ``epoch``
(the current one + 1, so a rotation certificate works exactly once), the new
members (0x addresses, canonical: lower case, strictly increasing, as
``Bridge.sol`` wants them; the devnet takes them in that order too) and the new
threshold (a strict majority). The signing bytes are the chain's
(``core.seams.BridgeEndpoint.rotation_digest``). ``CommitteeState`` is what a
chain's bridge trusts now, as read from it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.errors import InvalidInput
from core.ids import ChainId

MAX_MEMBERS = 32
"""Most members a committee may have (the devnet's bound; ``Bridge.sol`` allows more)."""
_ADDRESS = re.compile(r"0x[0-9a-f]{40}")


def canonical_members(members: Sequence[str]) -> tuple[str, ...]:
    """Members lower-cased and sorted; ``InvalidInput`` for a malformed or repeated one."""
    lowered = [str(m).lower() for m in members]
    if not 1 <= len(lowered) <= MAX_MEMBERS:
        raise InvalidInput(f"a committee has 1 .. {MAX_MEMBERS} members", field="members")
    for m in lowered:
        if not _ADDRESS.fullmatch(m):
            raise InvalidInput(
                "a committee member is 0x followed by 40 hex digits", field="members"
            )
    if len(set(lowered)) != len(lowered):
        raise InvalidInput("a committee member is listed twice", field="members")
    return tuple(sorted(lowered))


@dataclass(frozen=True, slots=True)
class CommitteeState:
    """The committee a chain's bridge trusts: its epoch, threshold and members."""

    epoch: int
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RotationStatement:
    """What the current committee of ``chain_id`` signs: the committee of ``epoch`` takes
    office. Built with ``RotationStatement.make`` (it checks and canonicalises)."""

    chain_id: ChainId
    epoch: int
    threshold: int
    members: tuple[str, ...]

    @classmethod
    def make(
        cls, chain_id: ChainId | str, epoch: int, threshold: int, members: Sequence[str]
    ) -> RotationStatement:
        """A checked statement: members canonical, ``2 * threshold > len(members)``."""
        canonical = canonical_members(members)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 2 <= epoch < 2**64:
            raise InvalidInput("a rotation's epoch is 2 .. 2^64-1 (current + 1)", field="epoch")
        if isinstance(threshold, bool) or not isinstance(threshold, int):
            raise InvalidInput("the threshold is an integer", field="threshold")
        if not (threshold <= len(canonical) and 2 * threshold > len(canonical)):
            raise InvalidInput(
                f"threshold {threshold} is not a majority of {len(canonical)} members",
                field="threshold",
            )
        return cls(ChainId(str(chain_id)), epoch, threshold, canonical)

    def follows(self, current: CommitteeState) -> bool:
        """True when this statement is the next rotation of ``current``."""
        return self.epoch == current.epoch + 1

    def committee(self) -> CommitteeState:
        """The committee this statement puts in office."""
        return CommitteeState(self.epoch, self.threshold, self.members)


class RotationState(StrEnum):
    """A rotation on the hub: ``draining`` (new attestations acting on the chain are held
    while everything the old committee certified lands), ``submitted`` (the
    ``rotate`` action is journaled and sent), ``done`` (the chain trusts the new
    committee), ``failed`` (refused for a reason of its own; the hold is lifted)."""

    DRAINING = "draining"
    SUBMITTED = "submitted"
    DONE = "done"
    FAILED = "failed"


OPEN_ROTATION_STATES = frozenset({RotationState.DRAINING, RotationState.SUBMITTED})


@dataclass(frozen=True, slots=True)
class RotationRecord:
    """A rotation the hub drives: its statement, where it is, and the chain's answer."""

    id: str
    route_id: str
    statement: RotationStatement
    state: RotationState
    created_at: float
    updated_at: float
    hold_since: float
    tx_hash: bytes | None = None
    note: str = ""
    requested_by: str = ""


__all__ = [
    "MAX_MEMBERS",
    "OPEN_ROTATION_STATES",
    "CommitteeState",
    "RotationRecord",
    "RotationState",
    "RotationStatement",
    "canonical_members",
]

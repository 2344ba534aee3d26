"""Bodies of ``/v1/committee`` (admin) and ``/v1/notary/rotations`` (notaries): committee
rotations (issue #20, ``docs/notary.md`` "Committee rotation")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.committee import MAX_MEMBERS, CommitteeState, RotationRecord
from gateway.schemas.common import Hex32, Hex65, Name, SignerAddress


class RotationIn(BaseModel):
    """Rotate the committee of ``route_id``'s destination bridge (or its source's, with
    ``side = "source"``) to ``members`` with ``threshold``, at the chain's epoch + 1."""

    model_config = ConfigDict(extra="forbid")

    route_id: Name
    members: Annotated[list[SignerAddress], Field(min_length=1, max_length=MAX_MEMBERS)]
    threshold: Annotated[int, Field(ge=1, le=MAX_MEMBERS)]
    side: Literal["destination", "source"] = "destination"
    dry_run: bool = False


class CommitteeOut(BaseModel):
    epoch: int
    threshold: int
    members: list[str]

    @classmethod
    def of(cls, c: CommitteeState) -> CommitteeOut:
        return cls(epoch=c.epoch, threshold=c.threshold, members=list(c.members))


class RotationOut(BaseModel):
    id: str
    route_id: str
    chain: str
    epoch: int
    threshold: int
    members: list[str]
    state: str
    note: str
    tx_hash: str | None
    requested_by: str
    created_at: float
    updated_at: float
    signatures: int

    @classmethod
    def of(cls, r: RotationRecord, signatures: int) -> RotationOut:
        return cls(
            id=r.id,
            route_id=r.route_id,
            chain=str(r.statement.chain_id),
            epoch=r.statement.epoch,
            threshold=r.statement.threshold,
            members=list(r.statement.members),
            state=str(r.state),
            note=r.note,
            tx_hash=None if r.tx_hash is None else "0x" + r.tx_hash.hex(),
            requested_by=r.requested_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            signatures=signatures,
        )


class InFlightOut(BaseModel):
    """What the outgoing committee certified and the chain has not used yet (drained
    before the rotation is sent)."""

    transfers: int
    batches: int


class RotationPlanOut(BaseModel):
    """A rotation's statement, its signing digest, the chain's committee now and what is
    in flight; ``rotation`` is the stored one (``None`` for a dry run)."""

    chain: str
    statement: CommitteeOut
    digest: str
    current: CommitteeOut
    in_flight: InFlightOut
    rotation: RotationOut | None


class ChainCommitteeOut(BaseModel):
    chain: str
    configured: CommitteeOut
    live: CommitteeOut | None
    error: str | None
    open_rotation: RotationOut | None


class RotationWorkOut(BaseModel):
    """An open rotation for notaries: each checks it against its own configuration."""

    rotation_id: str
    chain: str
    epoch: int
    threshold: int
    members: list[str]
    digest: str | None


class RotationSignatureIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notary: SignerAddress
    digest: Hex32
    signature: Hex65


class RotationSignatureOut(BaseModel):
    rotation_id: str
    notary: str
    accepted: bool

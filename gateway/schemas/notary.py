"""Bodies of ``/v1/notary``: work items for notaries and their attestations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.schemas.common import Hex32, Hex65, Name, SignerAddress

WorkKind = Literal["delivery", "nondelivery"]


class WorkItem(BaseModel):
    """A packet a notary should verify itself and, if it holds, sign."""

    transfer_id: str
    route_id: str
    source_chain: str
    dest_chain: str
    sequence: int
    height: int | None
    tx_hash: str | None
    position: list[int]
    kind: WorkKind


class AttestationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transfer_id: Name
    notary: SignerAddress
    kind: WorkKind
    digest: Hex32
    signature: Hex65


class AttestationOut(BaseModel):
    transfer_id: str
    notary: str
    kind: WorkKind
    accepted: bool


__all__ = ["AttestationIn", "AttestationOut", "WorkItem", "WorkKind"]

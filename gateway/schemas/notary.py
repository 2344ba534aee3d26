"""Bodies of ``/v1/notary``: work items for notaries and their attestations."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from gateway.schemas.common import Hex32, Hex65, Name, SignerAddress

WorkKind = Literal["delivery", "nondelivery"]


class FailureEvent(BaseModel):
    """Where a packet's destination recorded it received but failed (its ``packet_failed``
    event): what a notary proves before it signs the packet's error acknowledgement."""

    height: int
    tx_hash: str
    position: list[int]


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


class BatchMemberItem(WorkItem):
    """A packet of a batch (``failure``: for a member of an ``error_ack`` batch, the
    destination's failure event the notary proves; else null)."""

    failure: FailureEvent | None = None


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


BatchKindName = Literal["delivery", "nondelivery", "ack", "error_ack"]


class BatchWorkOut(BaseModel):
    """A batch statement a notary should verify packet by packet, recompute, and sign."""

    batch_id: str
    route_id: str
    source_chain: str
    dest_chain: str
    kind: BatchKindName
    epoch: int
    size: int
    root: str
    digest: str
    members: list[BatchMemberItem]


class BatchAttestationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: Name
    notary: SignerAddress
    digest: Hex32
    signature: Hex65


class BatchAttestationOut(BaseModel):
    batch_id: str
    notary: str
    accepted: bool


__all__ = [
    "AttestationIn",
    "AttestationOut",
    "BatchAttestationIn",
    "BatchAttestationOut",
    "BatchKindName",
    "BatchMemberItem",
    "BatchWorkOut",
    "FailureEvent",
    "WorkItem",
    "WorkKind",
]

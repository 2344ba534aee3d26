"""Schemas of the audit log, supervisor levers and operator tools (docs/supervision.md)."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, Field

from core.records import EquivocationRecord
from gateway.store.audit import CheckpointRecord

MAX_HEIGHT = 2**53
"""Heights and seqs accepted here: exact in a JSON number (a double) and far above any chain."""
Reason = Field(
    min_length=1,
    max_length=1024,
    # At least one character Python's str.strip keeps (the store strips the reason): a
    # reason of separators only is refused by the schema, not accepted then refused.
    pattern=r"[^\s\x1c-\x1f]",
    description="why (kept in the audit log)",
)


class AuditEntryOut(BaseModel):
    """One entry: the hashed fields (RFC 8785 bytes, ``proofs/audit.py``), then its links."""

    v: int
    seq: int
    at_ms: int = Field(description="unix time in milliseconds")
    actor: str = Field(description="the API key's name, or the process (hub)")
    role: str
    request_id: str
    action: str = Field(description="<subject>.<verb>, e.g. transfer.transition, route.pause")
    subject: str
    subject_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    prev: str = Field(description="hash of the previous entry (hex)")
    hash: str = Field(description="sha256(canonical bytes ‖ prev) (hex)")


class AuditHeadOut(BaseModel):
    seq: int
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
    next: int | None = Field(description="pass as `after` for the next page; null at the end")
    head: AuditHeadOut


class CheckpointOut(BaseModel):
    """The hub's signature over a head, and where its hash was anchored."""

    seq: int
    hash: str
    at_ms: int
    signer: str = Field(description="the hub's checkpoint address (secp256k1, 0x…)")
    signature: str = Field(description="65 bytes r ‖ s ‖ v over the checkpoint digest")
    anchor_chain: str | None = None
    anchor_tx: str | None = None
    anchor_height: int | None = None
    anchor_account: str | None = None

    @classmethod
    def of(cls, r: CheckpointRecord) -> Self:
        return cls(
            seq=r.seq,
            hash=r.hash.hex(),
            at_ms=r.at_ms,
            signer=r.signer,
            signature="0x" + r.signature.hex(),
            anchor_chain=r.anchor_chain,
            anchor_tx=None if r.anchor_tx is None else "0x" + r.anchor_tx.hex(),
            anchor_height=r.anchor_height,
            anchor_account=None if r.anchor_account is None else "0x" + r.anchor_account.hex(),
        )


class AnchorIn(BaseModel):
    chain_id: str = Field(min_length=1, max_length=63, description="a chain the hub serves")


class ReasonIn(BaseModel):
    reason: str = Reason


class RewindIn(BaseModel):
    height: int = Field(ge=0, le=MAX_HEIGHT, description="the last height to count as scanned")
    reason: str = Reason


class RewindOut(BaseModel):
    chain_id: str
    cursor: str
    old_height: int
    new_height: int
    floor: int


class UnfreezeIn(BaseModel):
    height: int = Field(ge=0, le=MAX_HEIGHT, description="the new trust anchor's height")
    hash: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$", description="its header hash, from outside")
    reason: str = Reason


class StatementOut(BaseModel):
    digest: str
    signature: str


class EvidenceOut(BaseModel):
    """One notary's two signed statements about one packet: checkable offline
    (``pjgw evidence verify``)."""

    notary: str
    route_id: str
    sequence: int
    kind: str
    at: float
    statements: list[StatementOut]

    @classmethod
    def of(cls, r: EquivocationRecord) -> Self:
        return cls(
            notary=r.notary,
            route_id=r.route_id,
            sequence=r.sequence,
            kind=r.kind,
            at=r.at,
            statements=[
                StatementOut(digest="0x" + r.digest_a.hex(), signature="0x" + r.signature_a.hex()),
                StatementOut(digest="0x" + r.digest_b.hex(), signature="0x" + r.signature_b.hex()),
            ],
        )

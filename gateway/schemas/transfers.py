"""Bodies of ``/v1/transfers``: the create request and the transfer as the API shows it."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from core.records import (
    ActionRecord,
    HoldRecord,
    TransferEventRecord,
    TransferKind,
    TransferRecord,
)
from core.states import TransferState
from gateway.schemas.common import (
    MAX_INT63,
    AddressText,
    DecimalAmount,
    Denom,
    HexPayload,
    HexSignedTx,
    Name,
)

MAX_TIMEOUT_SECONDS = MAX_INT63 // 1000  # still a uint64 once in milliseconds


_RULES: dict[str, Any] = {
    # what ``_check`` enforces, in the schema's terms
    "oneOf": [
        {"required": ["signed_tx"], "properties": {"signed_tx": {"type": "string"}}},
        {"required": ["from_account"], "properties": {"from_account": {"type": "string"}}},
    ],
    "anyOf": [
        {"required": ["timeout_height"], "properties": {"timeout_height": {"minimum": 1}}},
        {"required": ["timeout_seconds"], "properties": {"timeout_seconds": {"minimum": 1}}},
    ],
    "if": {"required": ["kind"], "properties": {"kind": {"const": "asset"}}},
    "then": {
        "required": ["amount", "denom"],
        "properties": {"amount": {"pattern": "[1-9]"}, "denom": {"minLength": 1}},
    },
}


class TransferRequest(BaseModel):
    """``POST /v1/transfers``. Exactly one of ``signed_tx`` / ``from_account`` starts it."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_RULES)

    route_id: Name
    kind: TransferKind
    sender: AddressText
    receiver: AddressText
    denom: Denom = ""
    amount: DecimalAmount = "0"
    payload: HexPayload = "0x"
    timeout_height: int = Field(0, ge=0, le=MAX_INT63)
    timeout_seconds: int = Field(
        0,
        ge=0,
        le=MAX_TIMEOUT_SECONDS,
        validation_alias=AliasChoices("timeout_seconds", "timeout_time"),
        description="unix time (seconds) after which the destination refuses it; 0 = none",
    )
    signed_tx: HexSignedTx | None = None
    from_account: Name | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.signed_tx is None) == (self.from_account is None):
            raise ValueError("give exactly one of signed_tx or from_account")
        if self.kind is TransferKind.ASSET:
            if int(self.amount) == 0:
                raise ValueError("an asset transfer moves an amount above 0")
            if not self.denom:
                raise ValueError("an asset transfer names its denom")
        if self.timeout_height == 0 and self.timeout_seconds == 0:
            raise ValueError("give a timeout_height or timeout_seconds (or both)")
        return self

    def canonical_json(self) -> bytes:
        """The normalized body as canonical JSON (sorted keys, no spaces)."""
        body = self.model_dump(mode="json")
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def request_hash(self) -> bytes:
        """sha256 of the canonical JSON: what an ``Idempotency-Key`` is bound to."""
        return hashlib.sha256(self.canonical_json()).digest()

    def payload_bytes(self) -> bytes:
        return bytes.fromhex(self.payload[2:])


class PacketOut(BaseModel):
    source: str
    destination: str
    sequence: int


class ActionOut(BaseModel):
    step: str
    chain_id: str
    kind: str
    status: str
    idempotency_key: str
    tx_hash: str | None
    height: int | None
    reason: str
    recorded_at: float

    @classmethod
    def of(cls, a: ActionRecord) -> Self:
        return cls(
            step=a.step,
            chain_id=str(a.chain_id),
            kind=a.kind,
            status=str(a.status),
            idempotency_key=a.idempotency_key,
            tx_hash=_hex(a.tx_hash),
            height=None if a.height is None else int(a.height),
            reason=a.reason,
            recorded_at=a.recorded_at,
        )


class EventOut(BaseModel):
    id: int
    at: float
    state: TransferState
    reason: str
    tx_hash: str | None = None
    chain_id: str | None = None

    @classmethod
    def of(cls, e: TransferEventRecord) -> Self:
        return cls(
            id=e.id,
            at=e.at,
            state=e.state,
            reason=e.reason,
            tx_hash=_hex(e.tx_hash),
            chain_id=None if e.chain_id is None else str(e.chain_id),
        )


class ChainTxOut(BaseModel):
    """One transaction on a chain that belongs to the transfer."""

    role: str  # "source", "destination", or a journal step
    chain_id: str | None
    tx_hash: str


class HoldOut(BaseModel):
    """Why a transfer is held, and until when (``release_at`` null: a supervisor decides)."""

    rule: str
    reason: str
    release_at: float | None
    origin: Literal["api", "source"] = Field(
        description="api: nothing sent on the source yet; source: a proven packet"
    )
    decision: Literal["cancelled", "rejected"] | None = Field(
        None,
        description="set once cancelled or rejected after it left the source: refunded"
        " once its timeout passes",
    )

    @classmethod
    def of(cls, h: HoldRecord | None) -> Self | None:
        if h is None:
            return None
        return cls(
            rule=h.rule,
            reason=h.reason,
            release_at=h.release_at,
            origin=h.origin,  # type: ignore[arg-type]
            decision=h.decision,  # type: ignore[arg-type]
        )


class TransferSummary(BaseModel):
    """A transfer in lists (no journal, no history)."""

    id: str
    route_id: str
    kind: TransferKind
    sender: str
    receiver: str
    denom: str
    amount: str
    payload: str
    timeout_height: int
    timeout_seconds: int
    state: TransferState
    reason: str
    packet: PacketOut | None
    source_tx: str | None
    source_height: int | None
    source_position: list[int] | None
    dest_tx: str | None
    attempts: int
    created_at: float
    updated_at: float
    hold: HoldOut | None = Field(None, description="while held: why and until when")

    @classmethod
    def of(cls, t: TransferRecord) -> Self:
        packet = (
            None
            if t.packet is None
            else PacketOut(
                source=str(t.packet.source),
                destination=str(t.packet.destination),
                sequence=t.packet.sequence,
            )
        )
        return cls(
            id=t.id,
            route_id=t.route_id,
            kind=t.kind,
            sender=t.sender,
            receiver=t.receiver,
            denom=t.denom,
            amount=str(t.amount),
            payload="0x" + t.payload.hex(),
            timeout_height=t.timeout_height,
            timeout_seconds=t.timeout_time,
            state=t.state,
            reason=t.reason,
            packet=packet,
            source_tx=_hex(t.source_tx),
            source_height=None if t.source_height is None else int(t.source_height),
            source_position=None if t.source_position is None else list(t.source_position),
            dest_tx=_hex(t.dest_tx),
            attempts=t.attempts,
            created_at=t.created_at,
            updated_at=t.updated_at,
            hold=HoldOut.of(t.hold),
        )


class TransferOut(TransferSummary):
    """``GET /v1/transfers/{id}``: the transfer with every chain transaction and its history."""

    transactions: list[ChainTxOut] = []
    actions: list[ActionOut] = []
    history: list[EventOut] = []


class TransferPage(BaseModel):
    items: list[TransferSummary]
    next_cursor: str | None


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


__all__ = [
    "ActionOut",
    "ChainTxOut",
    "EventOut",
    "TransferOut",
    "TransferPage",
    "TransferRequest",
    "TransferSummary",
]

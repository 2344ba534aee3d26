"""Bodies of ``/v1/swaps``: the proposal, the delegated claim, and the swap as the API shows it.

A swap has two legs. Leg 1: the initiator locks ``leg1.amount`` of
``leg1.asset`` on ``leg1.chain_id`` for the responder; leg 2: the responder
locks on ``leg2.chain_id`` for the initiator. Both under one sha256
``hashlock``. ``leg.sender`` is who locks (and is refunded), ``leg.receiver``
who may claim.

SECURITY: the preimage appears in exactly one body, ``SwapClaimRequest``, and
never in a response: ``SwapOut`` says only whether the hub holds it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from core.records import ActionRecord
from core.states import SwapState
from core.swaps import LegState, SwapEventRecord, SwapLegRecord, SwapRecord
from gateway.schemas.common import MAX_INT63, AddressText, DecimalAmount, Hex32, Name
from gateway.schemas.transfers import ActionOut, ChainTxOut

NATIVE = "native"
"""The asset name of a chain's own coin (ETH on anvil); an ERC-20 is its address."""


class SwapLegRequest(BaseModel):
    """One leg's terms: who locks what for whom on which chain, and (optionally) until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    chain_id: Name
    sender: AddressText = Field(description="who locks the funds (and gets a refund)")
    receiver: AddressText = Field(description="who may claim them with the preimage")
    asset: str = Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9/:._-]+$",
        description="a Pujiang denom, an ERC-20 address, or 'native'",
    )
    amount: DecimalAmount = Field(json_schema_extra={"allOf": [{"pattern": "[1-9]"}]})
    timelock: int | None = Field(
        None,
        ge=1,
        le=MAX_INT63 // 1000,
        description="unix seconds from which the leg is refundable; omitted: the hub computes it",
    )

    @field_validator("amount")
    @classmethod
    def _positive(cls, value: str) -> str:
        if int(value) == 0:
            raise ValueError("a swap leg moves an amount above 0")
        return value


class SwapDelegation(BaseModel):
    """What the parties let the hub do for them. Claims and refunds pay the leg's own
    receiver or sender whoever sends them, so a delegated hub can act but never take."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_leg1: bool = Field(
        True, description="responder: claim leg 1 as soon as the preimage is public on leg 2"
    )
    claim_leg2: bool = Field(
        False,
        description="initiator: claim leg 2 with the preimage given to POST /v1/swaps/{id}/claim",
    )
    refund_leg1: bool = Field(True, description="initiator: refund leg 1 once its timelock passed")
    refund_leg2: bool = Field(True, description="responder: refund leg 2 once its timelock passed")


class SwapRequest(BaseModel):
    """``POST /v1/swaps``. Both timelocks or neither (then the hub computes them)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leg1: SwapLegRequest
    leg2: SwapLegRequest
    hashlock: Hex32 = Field(description="sha256 of the initiator's 32-byte secret")
    delegate: SwapDelegation = SwapDelegation()

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.leg1.chain_id == self.leg2.chain_id:
            raise ValueError("the two legs of a swap are on two different chains")
        if (self.leg1.timelock is None) != (self.leg2.timelock is None):
            raise ValueError("give both timelocks or neither (the hub then computes both)")
        return self

    def canonical_json(self) -> bytes:
        body = self.model_dump(mode="json")
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def request_hash(self) -> bytes:
        """sha256 of the canonical JSON: what an ``Idempotency-Key`` is bound to."""
        return hashlib.sha256(self.canonical_json()).digest()


class SwapClaimRequest(BaseModel):
    """``POST /v1/swaps/{id}/claim``: the initiator hands over the secret to claim leg 2.

    SECURITY: a ``SecretStr``, so it is masked in reprs, logs and validation errors.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    preimage: SecretStr = Field(
        description="the 32-byte secret, 0x + 64 hex digits",
        json_schema_extra={"pattern": "^0x[0-9a-fA-F]{64}$", "writeOnly": True},
    )

    @field_validator("preimage")
    @classmethod
    def _shape(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if len(text) != 66 or not text.startswith("0x"):
            raise ValueError("the preimage is 0x followed by 64 hex digits (32 bytes)")
        try:
            bytes.fromhex(text[2:])
        except ValueError:
            raise ValueError("the preimage is 0x followed by 64 hex digits (32 bytes)") from None
        return value

    def secret_bytes(self) -> bytes:
        return bytes.fromhex(self.preimage.get_secret_value()[2:])


class SwapLegOut(BaseModel):
    """One leg: its terms, its state on its chain, and its chain transactions."""

    leg: int
    chain_id: str
    asset: str
    amount: str
    sender: str
    receiver: str
    timelock: int
    state: LegState
    claim_delegated: bool
    refund_delegated: bool
    lock_id: str | None
    lock_tx: str | None
    lock_height: int | None
    claim_tx: str | None
    refund_tx: str | None

    @classmethod
    def of(cls, leg: SwapLegRecord) -> Self:
        return cls(
            leg=leg.leg,
            chain_id=str(leg.chain_id),
            asset=leg.asset,
            amount=str(leg.amount),
            sender=leg.sender,
            receiver=leg.receiver,
            timelock=leg.timelock,
            state=leg.state,
            claim_delegated=leg.claim_delegated,
            refund_delegated=leg.refund_delegated,
            lock_id=_hex(leg.lock_id),
            lock_tx=_hex(leg.lock_tx),
            lock_height=None if leg.lock_height is None else int(leg.lock_height),
            claim_tx=_hex(leg.claim_tx),
            refund_tx=_hex(leg.refund_tx),
        )


class SwapEventOut(BaseModel):
    id: int
    at: float
    state: SwapState
    reason: str
    leg: int | None = None
    tx_hash: str | None = None
    chain_id: str | None = None

    @classmethod
    def of(cls, e: SwapEventRecord) -> Self:
        return cls(
            id=e.id,
            at=e.at,
            state=e.state,
            reason=e.reason,
            leg=e.leg,
            tx_hash=_hex(e.tx_hash),
            chain_id=None if e.chain_id is None else str(e.chain_id),
        )


class SwapSummary(BaseModel):
    """A swap in lists. ``preimage_known``: the hub holds the secret (handed over or seen
    on chain); the secret itself is never in a response."""

    id: str
    state: SwapState
    reason: str
    hashlock: str
    legs: list[SwapLegOut]
    preimage_known: bool
    attempts: int
    created_at: float
    updated_at: float

    @classmethod
    def of(cls, s: SwapRecord) -> Self:
        return cls(
            id=s.id,
            state=s.state,
            reason=s.reason,
            hashlock="0x" + s.hashlock.hex(),
            legs=[SwapLegOut.of(s.leg1), SwapLegOut.of(s.leg2)],
            preimage_known=s.preimage is not None,
            attempts=s.attempts,
            created_at=s.created_at,
            updated_at=s.updated_at,
        )


class SwapOut(SwapSummary):
    """``GET /v1/swaps/{id}``: the swap, every chain transaction, the hub's journal, history."""

    transactions: list[ChainTxOut] = []
    actions: list[ActionOut] = []
    history: list[SwapEventOut] = []
    delta_seconds: int | None = None


class Leg2CheckOut(BaseModel):
    """``GET /v1/swaps/{id}/leg2-check`` when the responder may lock leg 2 now."""

    may_lock: bool
    leg1_seconds_left: int
    leg2_seconds_left: int


class SwapPage(BaseModel):
    items: list[SwapSummary]
    next_cursor: str | None


def swap_transactions(s: SwapRecord, actions: list[ActionRecord]) -> list[ChainTxOut]:
    """Every chain transaction of the swap: each leg's lock/claim/refund, then the journal's."""
    out: list[ChainTxOut] = []
    seen: set[bytes] = set()
    for leg in s.legs:
        for role, tx in (("lock", leg.lock_tx), ("claim", leg.claim_tx), ("refund", leg.refund_tx)):
            if tx is not None and tx not in seen:
                seen.add(tx)
                out.append(
                    ChainTxOut(
                        role=f"leg{leg.leg}_{role}",
                        chain_id=str(leg.chain_id),
                        tx_hash=_hex(tx) or "",
                    )
                )
    for a in actions:
        if a.tx_hash is not None and a.tx_hash not in seen:
            seen.add(a.tx_hash)
            out.append(
                ChainTxOut(role=a.step, chain_id=str(a.chain_id), tx_hash=_hex(a.tx_hash) or "")
            )
    return out


def _hex(value: bytes | None) -> str | None:
    return None if value is None else "0x" + value.hex()


__all__ = [
    "NATIVE",
    "Leg2CheckOut",
    "SwapClaimRequest",
    "SwapDelegation",
    "SwapEventOut",
    "SwapLegOut",
    "SwapLegRequest",
    "SwapOut",
    "SwapPage",
    "SwapRequest",
    "SwapSummary",
    "swap_transactions",
]

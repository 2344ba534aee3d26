"""Bodies of ``/v1/chains`` and ``/v1/routes``.

A chain's settings are opaque here and validated by its family's own settings
model (``gateway.routers.chains``); what the API returns is redacted: any
field the model types as ``SecretStr`` (and any key that looks like one) is
never echoed.
"""

from __future__ import annotations

import json
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.records import ChainRecord, ClientRecord, RouteProtocol, RouteRecord, RouteStatusRecord
from gateway.schemas.common import Name

ChainIdText = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")


class ChainIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain_id: str = ChainIdText
    family: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    settings: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True


class ChainOut(BaseModel):
    chain_id: str
    family: str
    enabled: bool
    settings: dict[str, Any]

    @classmethod
    def of(cls, chain: ChainRecord, redacted: dict[str, Any]) -> Self:
        return cls(
            chain_id=str(chain.chain_id),
            family=chain.family,
            enabled=chain.enabled,
            settings=redacted,
        )


class RouteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    route_id: Name
    source: str = ChainIdText
    destination: str = ChainIdText
    protocol: RouteProtocol = RouteProtocol.NOTARY
    settings: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        if self.source == self.destination:
            raise ValueError("a route's source and destination differ")
        return self


class RouteStatusOut(BaseModel):
    """One relayer process's latest report on the route."""

    worker: str = Field(description="the relayer process (its worker id)")
    state: str = Field(description="running, stopped, unsupported, error or paused")
    reason: str = Field(description="why, in words (the frozen client's reason when stopped)")
    cursor: int | None = Field(None, description="the source height its watcher reached")
    since: float = Field(description="unix seconds: when the route entered this state")
    updated_at: float = Field(description="unix seconds: when this relayer last reported")

    @classmethod
    def of(cls, s: RouteStatusRecord) -> Self:
        return cls(
            worker=s.worker,
            state=s.state,
            reason=s.reason,
            cursor=s.cursor,
            since=s.since,
            updated_at=s.updated_at,
        )


class RouteOut(BaseModel):
    route_id: str
    source: str
    destination: str
    protocol: RouteProtocol
    settings: dict[str, Any]
    enabled: bool
    status: str | None = Field(
        None, description="the state in the newest relayer report; null before any report"
    )
    statuses: list[RouteStatusOut] = Field(
        default_factory=list, description="each relayer process's latest report, newest first"
    )
    paused_reason: str | None = None  # why a supervisor paused it (null: not paused)

    @classmethod
    def of(cls, r: RouteRecord, statuses: list[RouteStatusRecord] | None = None) -> Self:
        mine = [RouteStatusOut.of(s) for s in statuses or () if s.route_id == r.route_id]
        return cls(
            route_id=r.route_id,
            source=str(r.source),
            destination=str(r.destination),
            protocol=r.protocol,
            settings=dict(r.settings),
            enabled=r.enabled,
            status=mine[0].state if mine else None,
            statuses=mine,
            paused_reason=r.paused_reason,
        )


class ClientOut(BaseModel):
    """A chain's light client, as the hub last persisted it."""

    chain_id: str
    trusted_height: int
    frozen: bool
    frozen_reason: str
    updated_at: float
    trusting_period: int | None = None
    expires_in: float | None = None  # seconds until the trusted state leaves its trusting period
    evidence: dict[str, Any] | None = None
    """Why it froze: ``kind`` (``fork`` or ``time``), ``height``, ``trusted_hash``,
    ``conflicting_hash``, and the conflicting ``header`` with its ``commit`` (hex)."""

    @classmethod
    def of(cls, c: ClientRecord, trusting_period: int | None, expires_in: float | None) -> Self:
        return cls(
            chain_id=str(c.chain_id),
            trusted_height=int(c.trusted_height),
            frozen=c.frozen,
            frozen_reason=c.frozen_reason,
            updated_at=c.updated_at,
            trusting_period=trusting_period,
            expires_in=expires_in,
            evidence=_evidence(c.evidence),
        )


def _evidence(data: bytes) -> dict[str, Any] | None:
    if not data:
        return None
    try:
        found = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return {"undecodable": "0x" + data.hex()}
    return found if isinstance(found, dict) else {"value": found}


__all__ = ["ChainIn", "ChainOut", "ClientOut", "RouteIn", "RouteOut", "RouteStatusOut"]

"""Schemas of ``/v1/risk``: limits as written and read, their windows' usage, the held queue
(``docs/supervision.md``). Amounts are decimal strings (uint256 does not fit a JSON number)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.records import RiskLimitRecord
from gateway.schemas.common import DecimalAmount, Name
from gateway.schemas.transfers import TransferSummary

MAX_SECONDS = 366 * 24 * 3600
MAX_RATE = 1_000_000
LimitDenom = Annotated[str, StringConstraints(pattern=r"^(\*|[A-Za-z0-9/:._-]{1,128})$")]
"""A denomination, or ``*``: every denomination of the route together."""


class WindowIn(BaseModel):
    """A rolling-window value limit: at most ``amount`` admitted in any ``seconds``."""

    model_config = ConfigDict(extra="forbid")

    seconds: int = Field(ge=1, le=MAX_SECONDS, description="the window's length")
    amount: DecimalAmount = Field(description="value admitted per window (smallest unit)")


class DelayIn(BaseModel):
    """A transfer of at least ``threshold`` waits ``seconds`` from its creation."""

    model_config = ConfigDict(extra="forbid")

    threshold: DecimalAmount
    seconds: int = Field(ge=1, le=MAX_SECONDS)


class LimitIn(BaseModel):
    """``PUT /v1/risk/limits``: the limits of one route and denomination (replaces them).

    Every part is optional. Checked when written: a bad part is a 422 naming its field
    (an unknown route names ``route_id``)."""

    model_config = ConfigDict(extra="forbid")

    route_id: Name
    denom: LimitDenom
    max_amount: DecimalAmount | None = Field(None, description="per-transfer maximum")
    over_max: Literal["reject", "hold"] = Field(
        "hold", description="above the maximum: reject, or hold for a supervisor's review"
    )
    window: WindowIn | None = None
    rate_per_minute: int | None = Field(
        None, ge=1, le=MAX_RATE, description="transfers admitted per 60 s"
    )
    delay: DelayIn | None = None

    def record(self) -> RiskLimitRecord:
        def amount(text: str | None) -> int | None:
            return None if text is None else int(text)

        return RiskLimitRecord(
            route_id=self.route_id,
            denom=self.denom,
            max_amount=amount(self.max_amount),
            over_max=self.over_max,
            window_seconds=None if self.window is None else self.window.seconds,
            window_amount=None if self.window is None else int(self.window.amount),
            rate_per_minute=self.rate_per_minute,
            delay_threshold=None if self.delay is None else int(self.delay.threshold),
            delay_seconds=None if self.delay is None else self.delay.seconds,
        )


class WindowOut(BaseModel):
    seconds: int
    amount: str
    used: str = Field(description="value admitted in the window now")


class DelayOut(BaseModel):
    threshold: str
    seconds: int


class LimitOut(BaseModel):
    """A stored limit with what its windows hold now."""

    route_id: str
    denom: str
    max_amount: str | None
    over_max: str
    window: WindowOut | None
    rate_per_minute: int | None
    minute_count: int = Field(0, description="transfers admitted in the last 60 s")
    delay: DelayOut | None
    updated_at: float

    @classmethod
    def of(cls, r: RiskLimitRecord, used: int = 0, minute: int = 0) -> Self:
        window = None
        if r.window_seconds is not None and r.window_amount is not None:
            window = WindowOut(
                seconds=r.window_seconds, amount=str(r.window_amount), used=str(used)
            )
        delay = None
        if r.delay_seconds is not None and r.delay_threshold is not None:
            delay = DelayOut(threshold=str(r.delay_threshold), seconds=r.delay_seconds)
        return cls(
            route_id=r.route_id,
            denom=r.denom,
            max_amount=None if r.max_amount is None else str(r.max_amount),
            over_max=r.over_max,
            window=window,
            rate_per_minute=r.rate_per_minute,
            minute_count=minute,
            delay=delay,
            updated_at=r.updated_at,
        )


class RiskOut(BaseModel):
    """``GET /v1/risk``: every limit with its usage, and a page of the held queue."""

    now: float
    limits: list[LimitOut]
    held: list[TransferSummary]
    next_cursor: str | None = Field(None, description="pass as held_cursor for the next page")


__all__ = ["DelayIn", "LimitIn", "LimitOut", "RiskOut", "WindowIn"]

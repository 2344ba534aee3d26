"""Schemas of payload policies (``/v1/routes/{route_id}/policy``; docs/supervision.md).

Rules are typed here (strict: no coercion of ``"10"`` or ``true`` into a number)
and checked field by field by ``relayer.risk.policy_rules`` (bounds, patterns,
argv), whose refusals name ``rules[i].field``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from core.holds import Reject, Verdict
from core.policies import PayloadPolicy
from gateway.schemas.common import AddressText, DecimalAmount, Denom, HexPayload
from relayer.risk.policies import PolicyDecision


class RuleIn(BaseModel):
    """One rule: ``name``, ``kind``, ``action`` and its kind's fields (docs/supervision.md)."""

    model_config = ConfigDict(extra="forbid")

    name: StrictStr | None = Field(None, description="stable within the policy: [a-z0-9_.-]")
    kind: StrictStr | None = Field(
        None,
        description="sender, receiver, denom, content_type, size, keyword, regex or scanner",
    )
    action: StrictStr | None = Field(None, description="hold (for review) or reject (refund)")
    mode: StrictStr | None = Field(None, description="lists: allow or deny")
    values: list[StrictStr] | None = Field(None, description="lists: entries; keyword: keywords")
    max_bytes: StrictInt | None = Field(None, description="size: the largest payload passing")
    pattern: StrictStr | None = Field(None, description="regex: searched in the payload's text")
    argv: list[StrictStr] | None = Field(
        None, description="scanner: the command (absolute path) and its arguments; no shell"
    )
    timeout_ms: StrictInt | None = Field(None, description="scanner: its deadline")
    max_output: StrictInt | None = Field(None, description="scanner: bytes it may print")
    on_error: StrictStr | None = Field(
        None, description="regex, scanner: hold or reject when it errs or times out"
    )


class PolicyIn(BaseModel):
    """A route's whole policy (it replaces the stored one)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[RuleIn] = Field(description="in order; at most 64")
    force: StrictBool = Field(
        False, description="write a policy that would hold or reject every transfer anyway"
    )
    expected_version: Annotated[int, Field(ge=0, le=2**53)] | None = Field(
        None, description="refuse (409) unless the stored policy is at this version"
    )


class PolicyOut(BaseModel):
    route_id: str
    version: int = Field(description="0: no policy was ever set")
    updated_at: float
    rules: list[dict[str, Any]]

    @classmethod
    def of(cls, p: PayloadPolicy) -> Self:
        return cls(
            route_id=p.route_id, version=p.version, updated_at=p.updated_at, rules=p.rules_json()
        )


class CandidateIn(BaseModel):
    """A sample transfer for a dry run (nothing is created)."""

    model_config = ConfigDict(extra="forbid")

    sender: AddressText
    receiver: AddressText
    denom: Denom = ""
    amount: DecimalAmount = "0"
    payload: HexPayload = "0x"
    content_type: Annotated[str, Field(max_length=256)] = ""
    origin: Literal["api", "source"] = "api"


class DryRunIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    candidate: CandidateIn
    rules: list[RuleIn] | None = Field(
        None, description="proposed rules to try instead of the stored policy (not written)"
    )


class VerdictOut(BaseModel):
    verdict: Literal["pass", "hold", "reject"]
    rule: str | None = None
    reason: str | None = None

    @classmethod
    def of(cls, v: Verdict) -> Self:
        if v is None:
            return cls(verdict="pass")
        return cls(
            verdict="reject" if isinstance(v, Reject) else "hold", rule=v.rule, reason=v.reason
        )


class OutcomeOut(BaseModel):
    name: str
    kind: str
    result: Literal["pass", "fire", "error", "skipped"]
    detail: str


class DryRunOut(BaseModel):
    route_id: str
    version: int | None = Field(description="the stored policy's version; null for proposed rules")
    decision: VerdictOut
    outcomes: list[OutcomeOut] = Field(description="every rule's answer, in order")

    @classmethod
    def of(cls, d: PolicyDecision, proposed: bool) -> Self:
        return cls(
            route_id=d.route_id,
            version=None if proposed else d.version,
            decision=VerdictOut.of(d.verdict),
            outcomes=[
                OutcomeOut(name=o.name, kind=o.kind, result=o.result, detail=o.detail)
                for o in d.outcomes
            ],
        )

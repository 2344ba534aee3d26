"""Payload policies in the store: ``core.seams.PolicyStore`` on ``SqlStore`` (a mixin).

A route's policy is one row (``payload_policies``, migration 0011) holding its
ordered rules as JSON; a write replaces it whole, moves its version on by one
and stages its ``policy.set`` audit entry in the same transaction (before: the
version and the SHA-256 of the rules it replaced, whose full text is the
previous ``policy.set`` entry's after; after: the version, the SHA-256 and the
rules). A write touches no transfer: transfers already decided stay as they are
(``docs/supervision.md`` "Payload policies"). Decisions (``policy.decision``)
and dry runs (``policy.dry_run``) are audit entries of their own.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput, NotFound
from core.policies import PayloadPolicy, PolicyDecisionRecord, PolicyRule
from gateway.audit import log as audit
from gateway.store.models import PayloadPolicyRow, Route

T = TypeVar("T")


def rules_digest(rules: Sequence[Mapping[str, Any]]) -> str:
    """SHA-256 of the rules as sorted compact JSON: what a policy's audit entries name."""
    text = json.dumps(list(rules), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class PolicyStoreMixin:
    """Payload-policy methods of ``SqlStore``."""

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _write_retrying(self, work: Callable[[Session], T]) -> T: ...

    def payload_policy(self, route_id: str) -> PayloadPolicy:
        """The route's policy (version 0 and no rules when none was set); ``NotFound``."""
        with self._read() as s:
            row = s.get(PayloadPolicyRow, route_id)
            if row is None:
                if s.get(Route, route_id) is None:
                    raise NotFound(f"route {route_id!r} not found", route_id=route_id)
                return PayloadPolicy(route_id)
            return _policy(row)

    def set_payload_policy(
        self,
        route_id: str,
        rules: Sequence[PolicyRule],
        now: float,
        *,
        expected_version: int | None = None,
        forced: bool = False,
    ) -> PayloadPolicy:
        """Replace the route's rules (validated by the caller) at the next version; audited
        as ``policy.set`` (``forced``: it was written over the broad-policy refusal)."""
        body = [r.to_json() for r in rules]

        def work(s: Session) -> PayloadPolicy:
            if s.get(Route, route_id) is None:
                raise InvalidInput(f"route {route_id!r} is not registered", field="route_id")
            row = s.get(PayloadPolicyRow, route_id, with_for_update=True)
            current = 0 if row is None else int(row.version)
            if expected_version is not None and expected_version != current:
                raise Conflict(
                    f"the policy of route {route_id!r} is at version {current}, "
                    f"not {expected_version}: read it again",
                    route_id=route_id,
                )
            before_rules: list[Any] = [] if row is None else json.loads(row.rules)
            text = json.dumps(body, separators=(",", ":"))
            if row is None:
                row = PayloadPolicyRow(route_id=route_id, version=1, rules=text, updated_at=now)
                s.add(row)
            else:
                row.version, row.rules, row.updated_at = current + 1, text, now
            audit.stage(
                s,
                "policy.set",
                "route",
                route_id,
                now,
                before={"version": current, "rules_sha256": rules_digest(before_rules)},
                after={
                    "version": current + 1,
                    "rules_sha256": rules_digest(body),
                    "rules": body,
                    "forced": forced,
                },
            )
            s.flush()
            return _policy(row)

        return self._write_retrying(work)

    def record_policy_decision(self, decision: PolicyDecisionRecord, now: float) -> None:
        """``policy.decision`` on the transfer: the verdict, the rule, every rule that fired."""
        with self._write() as s:
            audit.stage(
                s,
                "policy.decision",
                "transfer",
                decision.transfer_id,
                now,
                after={
                    "route_id": decision.route_id,
                    "origin": decision.origin,
                    "policy_version": decision.version,
                    "verdict": decision.action,
                    "rule": decision.rule,
                    "fired": list(decision.fired),
                },
                reason=decision.reason,
            )

    def record_policy_dry_run(
        self, route_id: str, version: int | None, verdict: Mapping[str, Any] | None, now: float
    ) -> None:
        """``policy.dry_run`` on the route: what a sample candidate would have met under the
        stored policy at ``version``, or under proposed rules (``version`` None)."""
        with self._write() as s:
            audit.stage(
                s,
                "policy.dry_run",
                "route",
                route_id,
                now,
                after={
                    "policy_version": version,
                    "verdict": None if verdict is None else dict(verdict),
                },
            )


def _policy(row: PayloadPolicyRow) -> PayloadPolicy:
    return PayloadPolicy(
        route_id=row.route_id,
        version=int(row.version),
        rules=_parsed(row.rules),
        updated_at=float(row.updated_at),
    )


@functools.lru_cache(maxsize=64)
def _parsed(text: str) -> tuple[PolicyRule, ...]:
    """Rules from their stored JSON, parsed once per distinct text: every check reads the
    policy (a change applies at once) but a policy of 3,000 entries is not re-parsed."""
    return tuple(PolicyRule.from_json(r) for r in json.loads(text))


__all__ = ["PolicyStoreMixin", "rules_digest"]

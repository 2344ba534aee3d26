"""Payload policies: a route's ordered rules on who sends what (issue 17, item 4).

A route's policy is an ordered list of :class:`PolicyRule`; each rule looks at
one thing about a transfer (:class:`core.holds.Candidate`) and, when it fires,
holds the transfer for a supervisor's review or rejects it, as its ``action``
says. The kinds:

==============  ==========================================================
``sender``      allow or deny list of source addresses
``receiver``    allow or deny list of destination addresses
``denom``       allow or deny list of denominations
``content_type`` allow or deny list of media types (messages only)
``size``        a message payload longer than ``max_bytes`` fires
``keyword``     any of ``values`` in the payload's text, case-insensitively
``regex``       ``pattern`` found in the payload's text
``scanner``     an external command (``argv``) said "match" (exit 1)
==============  ==========================================================

The last five look at message payloads only: a plain asset transfer (empty
payload) passes them. The values here are plain data, validated when written
(``relayer/risk/policy_rules.py``) and evaluated by ``relayer/risk/policies.py``;
``docs/supervision.md`` "Payload policies" is the model in words. Every number
is an integer, so a policy is exactly representable in the audit log's RFC 8785
bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

HOLD = "hold"
REJECT = "reject"
ACTIONS = (HOLD, REJECT)
ALLOW = "allow"
DENY = "deny"
MODES = (ALLOW, DENY)

LIST_KINDS = ("sender", "receiver", "denom", "content_type")
PAYLOAD_KINDS = ("content_type", "size", "keyword", "regex", "scanner")
KINDS = ("sender", "receiver", "denom", "content_type", "size", "keyword", "regex", "scanner")

# Bounds of a policy, checked when it is written (the API's body bound, 64 KiB, comes first).
MAX_RULES = 64
MAX_LIST = 1000
MAX_VALUE_CHARS = 256
MAX_NAME_CHARS = 64
MAX_PATTERN_CHARS = 512
MAX_ARGV = 32
MAX_ARG_CHARS = 1024
MAX_SIZE_BYTES = 16 * 1024 * 1024
MAX_SCAN_TIMEOUT_MS = 30_000
MAX_SCAN_OUTPUT = 64 * 1024
DEFAULT_SCAN_TIMEOUT_MS = 5_000
DEFAULT_SCAN_OUTPUT = 4 * 1024
REGEX_TIMEOUT_MS = 100
"""How long one regular expression may search one payload before the rule errs (``on_error``)."""

OCTET_STREAM = "application/octet-stream"
"""The content type of a message that declares none."""


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """One rule: what it looks at (``kind`` and its fields) and what it does when it fires.

    Only the fields of its kind are meaningful: ``mode``/``values`` for the lists,
    ``values`` for ``keyword``, ``max_bytes`` for ``size``, ``pattern`` for ``regex``,
    ``argv``/``timeout_ms``/``max_output`` for ``scanner``; ``on_error`` (what a
    regex timeout or a scanner failure does) for ``regex`` and ``scanner``.
    """

    name: str
    kind: str
    action: str
    mode: str = ""
    values: tuple[str, ...] = ()
    max_bytes: int = 0
    pattern: str = ""
    argv: tuple[str, ...] = ()
    timeout_ms: int = DEFAULT_SCAN_TIMEOUT_MS
    max_output: int = DEFAULT_SCAN_OUTPUT
    on_error: str = HOLD

    def to_json(self) -> dict[str, Any]:
        """The rule as stored, served and audited: its kind's fields only."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "action": self.action}
        if self.kind in LIST_KINDS:
            out |= {"mode": self.mode, "values": list(self.values)}
        elif self.kind == "keyword":
            out["values"] = list(self.values)
        elif self.kind == "size":
            out["max_bytes"] = self.max_bytes
        elif self.kind == "regex":
            out |= {"pattern": self.pattern, "on_error": self.on_error}
        elif self.kind == "scanner":
            out |= {
                "argv": list(self.argv),
                "timeout_ms": self.timeout_ms,
                "max_output": self.max_output,
                "on_error": self.on_error,
            }
        return out

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PolicyRule:
        """A rule from its stored form (written by :meth:`to_json` after validation)."""
        return cls(
            name=str(raw["name"]),
            kind=str(raw["kind"]),
            action=str(raw["action"]),
            mode=str(raw.get("mode", "")),
            values=tuple(str(v) for v in raw.get("values", ())),
            max_bytes=int(raw.get("max_bytes", 0)),
            pattern=str(raw.get("pattern", "")),
            argv=tuple(str(a) for a in raw.get("argv", ())),
            timeout_ms=int(raw.get("timeout_ms", DEFAULT_SCAN_TIMEOUT_MS)),
            max_output=int(raw.get("max_output", DEFAULT_SCAN_OUTPUT)),
            on_error=str(raw.get("on_error", HOLD)),
        )


@dataclass(frozen=True, slots=True)
class PayloadPolicy:
    """A route's rules in order, at ``version`` (0 and no rules: no policy was ever set)."""

    route_id: str
    version: int = 0
    rules: tuple[PolicyRule, ...] = ()
    updated_at: float = 0.0

    def rules_json(self) -> list[dict[str, Any]]:
        return [r.to_json() for r in self.rules]


@dataclass(frozen=True, slots=True)
class PolicyDecisionRecord:
    """A hold or rejection by a route's policy, as the audit log keeps it (``policy.decision``):
    the transfer, where it was checked (``origin``), the policy's version, the verdict
    (``hold``/``reject``), the rule that applies and its reason, every rule that fired."""

    transfer_id: str
    route_id: str
    origin: str
    version: int
    action: str
    rule: str
    reason: str
    fired: tuple[str, ...]


def rule_id(route_id: str, rule: PolicyRule) -> str:
    """The stable name a verdict and the audit log give a rule: ``policy:<route>/<rule>``."""
    return f"policy:{route_id}/{rule.name}"


__all__ = [
    "ACTIONS",
    "ALLOW",
    "DENY",
    "HOLD",
    "KINDS",
    "LIST_KINDS",
    "MODES",
    "PAYLOAD_KINDS",
    "REJECT",
    "PayloadPolicy",
    "PolicyDecisionRecord",
    "PolicyRule",
    "rule_id",
]

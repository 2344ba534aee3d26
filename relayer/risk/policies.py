"""Payload policies evaluated: a route's rules on a candidate transfer, one verdict.

:func:`evaluate` is pure apart from the scanner hook (``relayer/risk/scanner.py``,
passed in, so tests and the dry-run choose it). Rules run in their order; each
one that fires gives its verdict (``core.holds``: ``hold`` is
``Hold(release_at=None)``, for a supervisor's review; ``reject`` is
``Reject``) and the policy's verdict is :func:`core.holds.strictest` of them (a
rejection beats a hold; between equals the earlier rule is named). Evaluation
stops at the first rejection: nothing is stricter, and the scanners after it
need not run. Which rules look at what:

* ``sender``/``receiver``/``denom``: an allow list fires when the value is not on
  it, a deny list when it is. Values compare after trimming, hex (``0x…``)
  case-insensitively.
* the payload rules look at message transfers only (a non-empty payload):
  ``content_type`` lists (an undeclared type is ``application/octet-stream``,
  parameters after ``;`` ignored), ``size`` (more than ``max_bytes``), ``keyword``
  (case-insensitive with full Unicode case folding, on the payload's UTF-8 text; a
  payload that is not UTF-8 is read with U+FFFD for its bad bytes, so text inside
  binary is still found and one bad byte is no way around the rule; the whole list
  in one pass, a named list of the ``regex`` package), ``regex`` (a search on the same text with
  a timeout: expiry is the rule's ``on_error``), ``scanner`` (exit 1 fires; an
  error is ``on_error``).

A verdict's ``rule`` is ``policy:<route>/<rule name>`` and its reason says what
fired in bounded words: a list rule names the field and the list (not the value),
a keyword rule the keyword's position in its list, a regex rule only itself; the
payload is never echoed.

:class:`PolicyCheck` is the ``core.holds.TransferCheck`` the hub's check points
run: it reads the route's policy from the store at each check (so a changed
policy applies to the next check, never to a transfer already decided) and
records each hold or rejection in the audit log (``policy.decision``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import regex

from core.holds import Candidate, Hold, Reject, Verdict, strictest
from core.policies import (
    ALLOW,
    HOLD,
    LIST_KINDS,
    OCTET_STREAM,
    REGEX_TIMEOUT_MS,
    PayloadPolicy,
    PolicyDecisionRecord,
    PolicyRule,
    rule_id,
)
from core.seams import PolicyStore
from relayer.risk.policy_rules import compile_pattern
from relayer.risk.scanner import ScanResult, run_scanner

_FOLD = regex.IGNORECASE | regex.FULLCASE

Result = Literal["pass", "fire", "error", "skipped"]
Scan = Callable[..., ScanResult]
"""``run_scanner``'s signature: ``(argv, payload, *, timeout, max_output, facts)``."""


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule's answer on one candidate (``skipped``: after a rejection, or not a message)."""

    name: str
    kind: str
    result: Result
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """The policy's verdict on a candidate, at which version, and every rule's answer."""

    route_id: str
    version: int
    verdict: Verdict
    outcomes: tuple[RuleOutcome, ...]

    @property
    def fired(self) -> list[str]:
        return [o.name for o in self.outcomes if o.result in ("fire", "error")]


def evaluate(
    policy: PayloadPolicy,
    candidate: Candidate,
    *,
    scan: Scan = run_scanner,
    scanners: Collection[str] | None = None,
) -> PolicyDecision:
    """The verdict of ``policy`` on ``candidate`` (module docstring: order, stop, reasons).

    ``scanners``: when given, a scanner rule naming another command errs (its
    ``on_error``) instead of running it: the hub's list, checked again at run time."""
    verdicts: list[Verdict] = []
    outcomes: list[RuleOutcome] = []
    text = candidate.payload.decode("utf-8", errors="replace")
    stopped = False
    for rule in policy.rules:
        if stopped or (rule.kind not in ("sender", "receiver", "denom") and not candidate.payload):
            outcomes.append(RuleOutcome(rule.name, rule.kind, "skipped"))
            continue
        result, detail = _apply(rule, candidate, text, scan, scanners)
        outcomes.append(RuleOutcome(rule.name, rule.kind, result, detail))
        if result == "pass":
            continue
        action = rule.action if result == "fire" else rule.on_error
        verdict = _verdict(policy.route_id, rule, action, detail)
        verdicts.append(verdict)
        stopped = isinstance(verdict, Reject)
    return PolicyDecision(policy.route_id, policy.version, strictest(verdicts), tuple(outcomes))


def _verdict(route_id: str, rule: PolicyRule, action: str, detail: str) -> Hold | Reject:
    reason = f"payload policy rule {rule.name!r} ({rule.kind}): {detail}"
    if action == HOLD:
        return Hold(rule_id(route_id, rule), reason + "; held for a supervisor's review")
    return Reject(rule_id(route_id, rule), reason)


def _apply(
    rule: PolicyRule, c: Candidate, text: str, scan: Scan, scanners: Collection[str] | None
) -> tuple[Result, str]:
    if rule.kind in LIST_KINDS:
        value = (
            _content_type(c.content_type) if rule.kind == "content_type" else getattr(c, rule.kind)
        )
        listed = match_key(value) in _keys(rule.values)
        if rule.mode == ALLOW and not listed:
            return "fire", f"the {rule.kind} is not on the allow list"
        if rule.mode != ALLOW and listed:
            return "fire", f"the {rule.kind} is on the deny list"
        return "pass", ""
    if rule.kind == "size":
        if len(c.payload) > rule.max_bytes:
            return "fire", f"the payload is {len(c.payload)} bytes, over {rule.max_bytes}"
        return "pass", ""
    if rule.kind == "keyword":
        matcher, positions = _keywords(rule.values)
        found = matcher.search(text)
        if found is None:
            return "pass", ""
        position = positions.get(found.group().casefold())
        which = "a keyword" if position is None else f"keyword {position + 1}"
        return "fire", f"the payload contains {which} of the rule"
    if rule.kind == "regex":
        try:
            found = compile_pattern(rule.pattern).search(text, timeout=REGEX_TIMEOUT_MS / 1000)
        except TimeoutError:
            return "error", f"the pattern did not finish in {REGEX_TIMEOUT_MS} ms"
        return ("fire", "the payload matches the rule's pattern") if found else ("pass", "")
    if scanners is not None and rule.argv[0] not in scanners:
        return "error", "the scanner is not one of the hub's scanner commands"
    result = scan(
        rule.argv,
        c.payload,
        timeout=rule.timeout_ms / 1000,
        max_output=rule.max_output,
        facts={
            "transfer_id": c.transfer_id,
            "route_id": c.route_id,
            "origin": c.origin,
            "sender": c.sender,
            "receiver": c.receiver,
            "denom": c.denom,
            "content_type": _content_type(c.content_type),
        },
    )
    if result.outcome == "pass":
        return "pass", ""
    if result.outcome == "match":
        return "fire", "the scanner found a match" + (f": {result.detail}" if result.detail else "")
    return "error", result.detail or "the scanner failed"


@functools.lru_cache(maxsize=256)
def _keywords(values: tuple[str, ...]) -> tuple[regex.Pattern[str], dict[str, int]]:
    """One pass for a whole keyword list: the ``regex`` package's named list (literal
    strings, full Unicode case folding), and each keyword's position by its folded form."""
    matcher = regex.compile(r"\L<keywords>", keywords=list(values), flags=_FOLD)
    positions: dict[str, int] = {}
    for i, keyword in enumerate(values):
        positions.setdefault(keyword.casefold(), i)
    return matcher, positions


def match_key(value: str) -> str:
    """How list entries and candidate values compare: trimmed; hex case-insensitively."""
    text = value.strip()
    return text.lower() if text[:2].lower() == "0x" else text


@functools.lru_cache(maxsize=256)
def _keys(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(match_key(v) for v in values)


def _content_type(value: str) -> str:
    essence = value.split(";", 1)[0].strip().lower()
    return essence or OCTET_STREAM


class PolicyCheck:
    """Payload policies as a ``core.holds.TransferCheck``: ``check(candidate, now)``.

    CONTRACT: ``check`` blocks (a store read, maybe a scanner): run it off the event
    loop. It reads the route's policy at each call (a change applies to the next
    check only) and records every hold or rejection in the audit log before
    returning it; a route without a policy passes without an entry.
    """

    name = "payload-policy"

    def __init__(
        self,
        store: PolicyStore,
        *,
        scan: Scan = run_scanner,
        scanners: Collection[str] | None = None,
    ) -> None:
        self._store = store
        self._scan = scan
        self._scanners = None if scanners is None else frozenset(scanners)

    def check(self, candidate: Candidate, now: float) -> Verdict:
        return self.check_all([candidate], now)[0]

    def check_all(self, candidates: Sequence[Candidate], now: float) -> list[Verdict]:
        """The verdicts of one screening, in order: each route's policy read once for all
        its candidates (a batch's members are checked against the same version)."""
        policies: dict[str, PayloadPolicy] = {}
        verdicts: list[Verdict] = []
        for candidate in candidates:
            policy = policies.get(candidate.route_id)
            if policy is None:
                policy = policies[candidate.route_id] = self._store.payload_policy(
                    candidate.route_id
                )
            if not policy.rules:
                verdicts.append(None)
                continue
            decision = evaluate(policy, candidate, scan=self._scan, scanners=self._scanners)
            if decision.verdict is not None:
                self._store.record_policy_decision(decision_record(candidate, decision), now)
            verdicts.append(decision.verdict)
        return verdicts


def decision_record(candidate: Candidate, decision: PolicyDecision) -> PolicyDecisionRecord:
    """The audit log's record of a decision that held or rejected ``candidate``."""
    verdict = decision.verdict
    if verdict is None:
        raise ValueError("a decision that lets the transfer pass is not recorded")
    return PolicyDecisionRecord(
        transfer_id=candidate.transfer_id,
        route_id=decision.route_id,
        origin=candidate.origin,
        version=decision.version,
        action="reject" if isinstance(verdict, Reject) else "hold",
        rule=verdict.rule,
        reason=verdict.reason,
        fired=tuple(decision.fired),
    )


__all__ = [
    "PolicyCheck",
    "PolicyDecision",
    "RuleOutcome",
    "decision_record",
    "evaluate",
    "match_key",
]

"""The payload-policy evaluator (``relayer/risk/policies.py``) as a malleate table.

One valid candidate passes one policy holding a rule of every kind; each row breaks
exactly one field of the candidate (or swaps one rule) and asserts the exact verdict:
its type, the rule it names, its reason; no reason echoes the payload. The scanner
rules run a real small script (``/bin/sh``) through the real hook.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from core.holds import Candidate, Hold, Reject, Verdict
from core.policies import PayloadPolicy, PolicyDecisionRecord, PolicyRule
from relayer.risk.policies import PolicyCheck, evaluate
from relayer.risk.scanner import ScanResult, run_scanner

ROUTE = "r1"
ALICE = "0x" + "aa" * 20
BOB = "0x" + "bb" * 20
CAROL = "0x" + "cc" * 20
DEAD = "0x" + "de" * 20

SCANNER = """#!/bin/sh
input=$(cat)
case "$input" in
  *malware*) echo "category: test-malware"; echo "second line"; exit 1 ;;
  *crash*) exit 3 ;;
  *hang*) sleep 30; exit 0 ;;
esac
exit 0
"""


@pytest.fixture(scope="module")
def scanner(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("scanner") / "scan.sh"
    path.write_text(SCANNER)
    return str(path)


def policy(scanner: str, *extra: PolicyRule) -> PayloadPolicy:
    rules = (
        PolicyRule("senders", "sender", "hold", mode="allow", values=(ALICE, BOB)),
        PolicyRule("receivers", "receiver", "reject", mode="deny", values=(DEAD,)),
        PolicyRule("denoms", "denom", "reject", mode="allow", values=("upj",)),
        PolicyRule(
            "types", "content_type", "hold", mode="allow", values=("application/json", "text/plain")
        ),
        PolicyRule("size", "size", "hold", max_bytes=256),
        PolicyRule("words", "keyword", "hold", values=("forbidden", "Secret Plan")),
        PolicyRule("cards", "regex", "hold", pattern=r"\b\d{16}\b", on_error="hold"),
        PolicyRule(
            "scan", "scanner", "hold", argv=("/bin/sh", scanner), timeout_ms=2000, on_error="reject"
        ),
        *extra,
    )
    return PayloadPolicy(ROUTE, 3, rules)


BASE = Candidate(
    transfer_id="tr_1",
    route_id=ROUTE,
    origin="source",
    sender="0x" + "AA" * 20,  # hex compares case-insensitively
    receiver=CAROL,
    denom="upj",
    amount=10,
    payload=b'{"memo": "hello"}',
    content_type="application/json; charset=utf-8",
)

Row = tuple[dict[str, object], type, str, str]
# name: (the one field changed, verdict type, rule, words the reason holds)
ROWS: dict[str, Row] = {
    "sender off the allow list": (
        {"sender": DEAD},
        Hold,
        "senders",
        "the sender is not on the allow list",
    ),
    "receiver on the deny list": (
        {"receiver": DEAD.upper().replace("0X", "0x")},
        Reject,
        "receivers",
        "the receiver is on the deny list",
    ),
    "denom off the allow list": ({"denom": "uatom"}, Reject, "denoms", "the denom is not on"),
    "content type not allowed": ({"content_type": "image/png"}, Hold, "types", "content_type"),
    "content type undeclared (octet-stream)": ({"content_type": ""}, Hold, "types", "content_type"),
    "payload over the size": (
        {"payload": b"{" + b" " * 256 + b"}"},
        Hold,
        "size",
        "258 bytes, over 256",
    ),
    "keyword in another case": ({"payload": b"a FORBIDDEN word"}, Hold, "words", "keyword 1 of"),
    "keyword inside bytes that are not UTF-8": (
        {"payload": b"\xff\xfe our secret plan \x80"},
        Hold,
        "words",
        "keyword 2 of",
    ),
    "regex match": (
        {"payload": b"card 4111111111111111 ok"},
        Hold,
        "cards",
        "matches the rule's pattern",
    ),
    "scanner match": (
        {"payload": b"some malware here"},
        Hold,
        "scan",
        "found a match: category: test-malware",
    ),
    "scanner error is its on_error": (
        {"payload": b"please crash"},
        Reject,
        "scan",
        "exited with 3",
    ),
    "scanner timeout is its on_error": (
        {"payload": b"hang on"},
        Reject,
        "scan",
        "did not answer in time",
    ),
}


def test_the_valid_candidate_passes_every_rule(scanner: str) -> None:
    decision = evaluate(policy(scanner), BASE)
    assert decision.verdict is None
    assert [o.result for o in decision.outcomes] == ["pass"] * 8


@pytest.mark.parametrize("name", list(ROWS))
def test_one_broken_field_gives_the_exact_verdict(name: str, scanner: str) -> None:
    change, kind, rule, words = ROWS[name]
    candidate = dataclasses.replace(BASE, **change)  # type: ignore[arg-type]
    verdict = evaluate(policy(scanner), candidate).verdict
    assert type(verdict) is kind, verdict
    assert verdict.rule == f"policy:{ROUTE}/{rule}"
    assert words in verdict.reason
    assert verdict.reason.startswith(f"payload policy rule {rule!r}")
    if isinstance(verdict, Hold):
        assert verdict.release_at is None  # a supervisor's review, never a timed release
        assert verdict.reason.endswith("held for a supervisor's review")
    text = candidate.payload.decode("utf-8", errors="replace")
    assert not text or text not in verdict.reason  # the payload is never echoed
    assert "second line" not in verdict.reason  # only the scanner's first line


def test_a_regex_that_backtracks_past_its_timeout_is_the_rules_on_error() -> None:
    slow = PolicyRule("slow", "regex", "hold", pattern=r"(x+x+)+y", on_error="reject")
    candidate = dataclasses.replace(BASE, payload=b"x" * 5000)
    verdict = evaluate(PayloadPolicy(ROUTE, 1, (slow,)), candidate).verdict
    assert verdict == Reject(
        f"policy:{ROUTE}/slow",
        "payload policy rule 'slow' (regex): the pattern did not finish in 100 ms",
    )


def test_a_plain_asset_transfer_is_not_looked_at_by_payload_rules(scanner: str) -> None:
    strict = (
        PolicyRule("nothing-typed", "content_type", "reject", mode="allow", values=()),
        PolicyRule("zero", "size", "reject", max_bytes=0),
    )
    decision = evaluate(PayloadPolicy(ROUTE, 1, strict), dataclasses.replace(BASE, payload=b""))
    assert decision.verdict is None
    assert [o.result for o in decision.outcomes] == ["skipped", "skipped"]


def _counting_scan(calls: list[tuple[str, ...]]) -> Callable[..., ScanResult]:
    def scan(argv: tuple[str, ...], payload: bytes, **_: object) -> ScanResult:
        calls.append(argv)
        return ScanResult("match", "x")

    return scan


def test_a_rejection_beats_an_earlier_hold_and_stops_the_rules_after_it() -> None:
    rules = (
        PolicyRule("hold-size", "size", "hold", max_bytes=1),
        PolicyRule("deny-carol", "receiver", "reject", mode="deny", values=(CAROL,)),
        PolicyRule("scan", "scanner", "hold", argv=("/bin/true",)),
    )
    calls: list[tuple[str, ...]] = []
    decision = evaluate(PayloadPolicy(ROUTE, 1, rules), BASE, scan=_counting_scan(calls))
    assert isinstance(decision.verdict, Reject)
    assert decision.verdict.rule == f"policy:{ROUTE}/deny-carol"
    assert [o.result for o in decision.outcomes] == ["fire", "fire", "skipped"]
    assert decision.fired == ["hold-size", "deny-carol"]
    assert calls == []  # the scanner after the rejection never ran


def test_between_two_holds_the_earlier_rule_is_named() -> None:
    rules = (
        PolicyRule("first", "size", "hold", max_bytes=1),
        PolicyRule("second", "keyword", "hold", values=("hello",)),
    )
    verdict = evaluate(PayloadPolicy(ROUTE, 1, rules), BASE).verdict
    assert isinstance(verdict, Hold)
    assert verdict.rule == f"policy:{ROUTE}/first"


class _Store:
    """The two store calls ``PolicyCheck`` makes, over a policy that can change."""

    def __init__(self, current: PayloadPolicy) -> None:
        self.current = current
        self.recorded: list[tuple[PolicyDecisionRecord, float]] = []

    def payload_policy(self, route_id: str) -> PayloadPolicy:
        assert route_id == self.current.route_id
        return self.current

    def set_payload_policy(self, *args: object, **kw: object) -> PayloadPolicy:
        raise NotImplementedError

    def record_policy_decision(self, decision: PolicyDecisionRecord, now: float) -> None:
        self.recorded.append((decision, now))


def test_the_check_reads_the_policy_at_each_check_and_records_only_holds_and_rejections(
    scanner: str,
) -> None:
    store = _Store(PayloadPolicy(ROUTE))
    check = PolicyCheck(store)
    assert check.name == "payload-policy"
    assert check.check(BASE, 1.0) is None  # no policy: nothing recorded
    store.current = policy(scanner)
    assert check.check(BASE, 2.0) is None  # passes: nothing recorded
    assert store.recorded == []
    store.current = dataclasses.replace(
        policy(scanner),
        version=4,
        rules=(PolicyRule("no-carol", "receiver", "reject", mode="deny", values=(CAROL,)),),
    )
    verdict: Verdict = check.check(BASE, 3.0)  # the new version applies to the next check
    assert isinstance(verdict, Reject)
    ((record, at),) = store.recorded
    assert at == 3.0
    assert record == PolicyDecisionRecord(
        transfer_id="tr_1",
        route_id=ROUTE,
        origin="source",
        version=4,
        action="reject",
        rule=f"policy:{ROUTE}/no-carol",
        reason=verdict.reason,
        fired=("no-carol",),
    )


# -- the scanner hook on its own: the protocol of relayer/risk/scanner.py ---------------


def _script(tmp_path: Path, body: str) -> tuple[str, ...]:
    path = tmp_path / "s.sh"
    path.write_text("#!/bin/sh\n" + body + "\n")
    return ("/bin/sh", str(path))


@pytest.mark.parametrize(
    ("body", "outcome", "detail"),
    [
        ("cat >/dev/null; exit 0", "pass", ""),
        ("cat >/dev/null; printf 'bad \\033[31mred\\n'; exit 1", "match", "bad [31mred"),
        ("exit 2", "error", "the scanner exited with 2"),
        ("kill -9 $$", "error", "the scanner was killed by signal 9"),
        ("yes | head -c 100000; exit 0", "error", "the scanner printed more than 1000 bytes"),
        ("sleep 30 & wait", "error", "the scanner did not answer in time"),
    ],
    ids=["pass", "match", "other-exit", "signal", "too-much-output", "timeout"],
)
def test_the_scanner_protocol(tmp_path: Path, body: str, outcome: str, detail: str) -> None:
    result = run_scanner(_script(tmp_path, body), b"payload", timeout=0.5, max_output=1000)
    assert result == ScanResult(outcome, detail)  # type: ignore[arg-type]


def test_a_scanner_that_does_not_read_a_large_payload_still_answers(tmp_path: Path) -> None:
    result = run_scanner(_script(tmp_path, "exit 1"), b"x" * (1 << 20), timeout=5, max_output=10)
    assert result.outcome == "match"


def test_a_scanner_sees_the_payload_on_stdin_and_only_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PJGW_AUDIT_KEY", "11" * 32)  # the hub's secrets stay with the hub
    body = (
        '[ -z "$PJGW_AUDIT_KEY" ] || exit 5\n'
        '[ "$PJGW_ROUTE_ID" = "r1" ] || exit 6\n'
        '[ "$(cat)" = "exact bytes" ] || exit 7\n'
        '[ "$(pwd)" = "/" ] || exit 8\n'
        "exit 0"
    )
    result = run_scanner(
        _script(tmp_path, body), b"exact bytes", timeout=5, max_output=10, facts={"route_id": "r1"}
    )
    assert result == ScanResult("pass")


def test_a_scanner_that_cannot_start_is_an_error(tmp_path: Path) -> None:
    result = run_scanner((str(tmp_path / "missing"),), b"", timeout=1, max_output=10)
    assert result.outcome == "error"
    assert result.detail.startswith("the scanner did not start")


def test_a_timed_out_scanner_leaves_no_child_running(tmp_path: Path) -> None:
    marker = tmp_path / "alive"
    body = f"(sleep 2; touch {marker}) & sleep 30"
    result = run_scanner(_script(tmp_path, body), b"", timeout=0.3, max_output=10)
    assert result.outcome == "error"
    run_scanner(_script(tmp_path, "sleep 3"), b"", timeout=10, max_output=10)  # waits past 2 s
    assert not marker.exists()  # the whole group was killed at the deadline


def test_a_stored_scanner_the_hub_no_longer_lists_errs_instead_of_running() -> None:
    rule = PolicyRule("scan", "scanner", "hold", argv=("/bin/true",), on_error="reject")
    calls: list[tuple[str, ...]] = []
    decision = evaluate(
        PayloadPolicy(ROUTE, 1, (rule,)), BASE, scan=_counting_scan(calls), scanners={"/x"}
    )
    assert decision.verdict == Reject(
        f"policy:{ROUTE}/scan",
        "payload policy rule 'scan' (scanner): the scanner is not one of the hub's scanner "
        "commands",
    )
    assert calls == []


def test_keywords_are_literal_text_and_fold_the_full_unicode_case() -> None:
    rule = PolicyRule("words", "keyword", "hold", values=("a.b", "straße"))
    policy_ = PayloadPolicy(ROUTE, 1, (rule,))

    def verdict(payload: bytes) -> Verdict:
        return evaluate(policy_, dataclasses.replace(BASE, payload=payload)).verdict

    assert verdict(b"axb") is None  # "." is a dot, not any character
    assert isinstance(verdict(b"A.B"), Hold)
    held = verdict(b"GROSSE STRASSE")
    assert isinstance(held, Hold)
    assert "keyword 2 of the rule" in held.reason

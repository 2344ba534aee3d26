"""What a payload policy costs a transfer's check: ``PolicyCheck`` with and without rules.

``python bench/policies.py [--checks N] [--rounds R]``: on a fresh SQLite store, checks
of one candidate through ``relayer.risk.policies.PolicyCheck`` on a route with no policy
(the baseline: one store read) and on three routes with policies, interleaved in R
rounds of N checks each (medians: the machine is shared):
``lists`` (sender, receiver and denom lists of 1,000 entries each, an asset
transfer), ``payload`` (content type, size, 1,000 keywords and a regular expression
on a 16 KiB message that passes them all: the worst case, every keyword searched),
``scanner`` (``payload`` plus a scanner rule running ``/bin/true``:
one process per check; N/10 per round). Prints microseconds per check and the ratio to
the baseline, then the evaluator alone (the policy already read).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from core.holds import Candidate
from core.ids import ChainId
from core.policies import PolicyRule
from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.store import SqlStore
from relayer.risk.policies import PolicyCheck, evaluate

HEX = "0x" + "ab" * 20


def _lists() -> tuple[PolicyRule, ...]:
    values = tuple(f"0x{i:040x}" for i in range(1000))
    return (
        PolicyRule("senders", "sender", "hold", mode="allow", values=(*values[:-1], HEX)),
        PolicyRule("receivers", "receiver", "reject", mode="deny", values=values),
        PolicyRule("denoms", "denom", "reject", mode="allow", values=(*values[:-1], "upj")),
    )


def _payload() -> tuple[PolicyRule, ...]:
    return (
        PolicyRule("types", "content_type", "hold", mode="allow", values=("text/plain",)),
        PolicyRule("size", "size", "hold", max_bytes=16 * 1024),
        PolicyRule("words", "keyword", "hold", values=tuple(f"word{i}z" for i in range(1000))),
        PolicyRule("cards", "regex", "hold", pattern=r"\b\d{16}\b"),
    )


def _scanner() -> tuple[PolicyRule, ...]:
    return (*_payload(), PolicyRule("scan", "scanner", "hold", argv=("/bin/true",)))


def _per_check(check: PolicyCheck, candidate: Candidate, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        if check.check(candidate, float(i)) is not None:
            raise SystemExit("the benchmark's candidate must pass")
    return (time.perf_counter() - start) / n * 1e6


def _evaluate_only(store: SqlStore, candidate: Candidate, args: argparse.Namespace) -> float:
    policy = store.payload_policy(candidate.route_id)
    n = max(args.checks // 10, 1) if candidate.route_id == "scanner" else args.checks
    rounds = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        for _ in range(n):
            evaluate(policy, candidate)
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checks", type=int, default=100, help="checks per case and round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(f"sqlite:///{Path(tmp) / 'hub.db'}")
        store.migrate()
        store.upsert_chain(ChainRecord(ChainId("a"), "pujiang"))
        store.upsert_chain(ChainRecord(ChainId("b"), "evm"))
        cases = {"lists": _lists(), "payload": _payload(), "scanner": _scanner()}
        for route in ("none", *cases):
            store.upsert_route(RouteRecord(route, ChainId("a"), ChainId("b"), RouteProtocol.NOTARY))
        for route, rules in cases.items():
            store.set_payload_policy(route, rules, 0.0)
        check = PolicyCheck(store)
        payload = b"hello world " * 1365
        candidates = {
            "none": Candidate("tr_0", "none", "source", HEX, HEX, "upj", 10),
            "lists": Candidate("tr_1", "lists", "source", HEX, HEX, "upj", 10),
            "payload": Candidate(
                "tr_2", "payload", "source", HEX, HEX, "upj", 10, payload, "text/plain"
            ),
            "scanner": Candidate(
                "tr_3", "scanner", "source", HEX, HEX, "upj", 10, payload, "text/plain"
            ),
        }
        figures: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(args.rounds):  # interleaved: each round measures the baseline too
            for name, candidate in candidates.items():
                n = max(args.checks // 10, 1) if name == "scanner" else args.checks
                figures[name].append(_per_check(check, candidate, n))
        pure = {name: _evaluate_only(store, c, args) for name, c in candidates.items()}
        store.close()
    base = statistics.median(figures["none"])
    print(f"rounds: {args.rounds}, checks per case and round: {args.checks} (scanner: a tenth)")
    print(f"{'case':<10} {'us/check':>10} {'x baseline':>11}")
    for name, values in figures.items():
        figure = statistics.median(values)
        print(f"{name:<10} {figure:>10.1f} {figure / base:>11.2f}")
    print("evaluate() alone (no store read), us/check:")
    for name, figure in pure.items():
        print(f"{name:<10} {figure:>10.1f}")


if __name__ == "__main__":
    main()

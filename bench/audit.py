"""What the audit log costs each state change: the store's writes with and without it.

``python bench/audit.py [--transfers N] [--url URL]``: N transfers created and taken through
six transitions (7 writes each, each with its audit entry: staged in the transaction,
chained on at commit under the head lock) on a fresh SQLite file (or ``--url``), then the
same with ``gateway.audit.log.stage`` replaced by a no-op in the same run (the baseline:
the store as it was before the audit log). Prints writes per second of each and the
ratio; then the time ``proofs.audit.validate_chain`` takes over the whole export.

``--bulk N``: the bulk path the relayer takes (``move_many``: one transaction, one entry per
member sharing one ``before`` and ``after``): N entries chained in one commit, with each
entry's bytes written field by field (``proofs.audit.entry_bytes``) and with the reference
(``canonical_bytes`` of the entry's dict) in the same run, rounds alternating; CPU µs an
entry, best of 20 rounds.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from core.ids import ChainId
from core.records import ChainRecord, NewTransfer, RouteProtocol, RouteRecord, TransferKind
from core.states import DELIVERY_PATH
from gateway.audit import log as audit_log
from gateway.store import SqlStore
from proofs.audit import validate_chain

PATH = list(DELIVERY_PATH)


def _store(url: str) -> SqlStore:
    store = SqlStore(url)
    store.migrate()
    store.upsert_chain(ChainRecord(ChainId("a"), "pujiang"))
    store.upsert_chain(ChainRecord(ChainId("b"), "evm"))
    store.upsert_route(RouteRecord("r", ChainId("a"), ChainId("b"), RouteProtocol.NOTARY))
    return store


def _writes(store: SqlStore, n: int) -> float:
    new = NewTransfer("r", TransferKind.ASSET, "0xs", "0xr", "upj", 1)
    start = time.perf_counter()
    for i in range(n):
        t, _ = store.create_transfer(new, float(i))
        for old, nxt in itertools.pairwise(PATH):
            store.transition(t.id, old, nxt, "bench", float(i))
    return n * len(PATH) / (time.perf_counter() - start)


def _bulk(store: SqlStore, n: int, rounds: int = 20) -> dict[str, float]:
    """CPU seconds an entry of ``audit.append`` in one commit of ``n``, each way (best)."""
    from sqlalchemy.orm import Session

    from gateway.audit.context import Caller

    caller = Caller("relayer", "relayer", None)
    before, after = {"state": "proven"}, {"state": "attested", "tx_hash": "0x" + "ab" * 32}
    best: dict[str, float] = {}
    fast = audit_log._fast_body
    for r in range(rounds):
        for name in ("field by field", "reference"):
            staged = [
                audit_log.Staged(
                    "transfer.transition", "transfer", f"{r:04d}{i:060d}", 1_765_000_000_000,
                    before, after, "attested by 2 of 3", caller,
                )
                for i in range(n)
            ]  # fmt: skip
            if name == "reference":
                audit_log._fast_body = lambda *_: None  # type: ignore[assignment]
            try:
                start = time.process_time()
                with Session(store.engine) as s, s.begin():
                    audit_log.append(s, staged)
                took = (time.process_time() - start) / n
            finally:
                audit_log._fast_body = fast  # type: ignore[assignment]
            best[name] = min(best.get(name, took), took)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=300)
    parser.add_argument("--url", default=None)
    parser.add_argument("--bulk", type=int, default=0, help="entries in one commit (bulk path)")
    args = parser.parse_args()
    if args.bulk:
        with tempfile.TemporaryDirectory() as folder:
            store = _store(args.url or f"sqlite:///{Path(folder) / 'bulk.db'}")
            best = _bulk(store, args.bulk)
            store.close()
        for name, took in best.items():
            print(f"{args.bulk} entries in one commit, {name:15}: {took * 1e6:6.1f} µs an entry")
        print(f"ratio: x{best['reference'] / best['field by field']:.2f}")
        return
    with tempfile.TemporaryDirectory() as folder:
        audited = _store(args.url or f"sqlite:///{Path(folder) / 'audited.db'}")
        with_audit = _writes(audited, args.transfers)
        original = audit_log.stage
        audit_log.stage = lambda *a, **k: None  # type: ignore[assignment]
        try:
            plain = _store(f"sqlite:///{Path(folder) / 'plain.db'}")
            without = _writes(plain, args.transfers)
            plain.close()
        finally:
            audit_log.stage = original  # type: ignore[assignment]
        entries, after = [], 0
        while True:
            page, cursor = audited.audit_entries(after_seq=after, limit=1000)
            entries += page
            if cursor is None:
                break
            after = cursor
        start = time.perf_counter()
        validate_chain(entries)
        verify_s = time.perf_counter() - start
        audited.close()
    print(f"writes/s without the audit log (baseline): {without:8.0f}")
    print(f"writes/s with the audit log:               {with_audit:8.0f}")
    print(f"ratio audited / baseline:                  {with_audit / without:8.2f}")
    print(f"validate_chain: {len(entries)} entries in {verify_s * 1000:.0f} ms "
          f"({len(entries) / verify_s:.0f} entries/s)")  # fmt: skip


if __name__ == "__main__":
    main()

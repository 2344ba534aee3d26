"""What one watcher per chain saves a second relayer process, and what the lease costs.

``python bench/watch_lease.py [--url URL] [--rounds R] [--calls N]``: on a fresh store
(a temp SQLite file unless ``--url`` names one, e.g. a PostgreSQL database), a chunk of 500
packets is recorded as the watching process does; then, in the same run, round by round
(the best of R rounds: the machine is shared):

* ``duplicate``: the store work of a second process's pass over that chunk without the
  lease (today's code): the cursor read, ``record_packets`` of the 500 packets (all found
  recorded) and ``advance_cursor`` (a no-op: forward-only). Its chain work (the
  ``events`` RPC and decoding 500 events) comes on top and is not measured here;
* ``standby``: the second process's whole pass with the lease: one ``take_watch_lease``
  that finds the holder's live lease;
* ``renew``: the holder's renewal, once per pass (``take_watch_lease`` by the holder);
* ``advance``: ``advance_cursor`` to a new height, the write every watcher chunk already
  makes (the baseline the renewal is compared with).

Prints µs per call and the ratios standby / duplicate and renew / advance.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from store_writes import CHUNK, _seen, _store  # bench/store_writes.py: the same packets

from core.ids import Height
from gateway.store import SqlStore

KEY = "chain:chain-a"
LEASE = 10.0


def _per_call(work: Callable[[int], object], calls: int) -> float:
    """µs per call of ``work(i)`` over ``calls`` calls."""
    started = time.perf_counter()
    for i in range(calls):
        work(i)
    return (time.perf_counter() - started) / calls * 1e6


def _round(store: SqlStore, calls: int, base: int) -> dict[str, float]:
    chunk = [_seen(i + 1) for i in range(CHUNK)]
    now = 1_000.0 + base
    if store.take_watch_lease(KEY, "w1", now, LEASE).owner != "w1":  # w1 watches this round
        raise SystemExit("w1 should hold the lease")

    def duplicate(_i: int) -> None:
        store.cursor(KEY)
        store.record_packets(chunk, now, final=True)
        store.advance_cursor(KEY, Height(1))

    figures = {
        "duplicate": _per_call(duplicate, max(1, calls // 20)),
        "standby": _per_call(lambda _i: store.take_watch_lease(KEY, "w2", now, LEASE), calls),
        "renew": _per_call(lambda _i: store.take_watch_lease(KEY, "w1", now, LEASE), calls),
        "advance": _per_call(lambda i: store.advance_cursor(KEY, Height(base + i + 10)), calls),
    }
    if store.take_watch_lease(KEY, "w2", now, LEASE).owner != "w1":
        raise SystemExit("the lease changed hands during the round")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="", help="a store URL (default: a temp SQLite file)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'hub.db'}"
        store = _store(url)
        try:
            store.record_packets([_seen(i + 1) for i in range(CHUNK)], 1.0, final=True)
            best: dict[str, float] = {}
            for r in range(args.rounds):
                for case, us in _round(store, args.calls, (r + 1) * 100_000).items():
                    best[case] = min(best.get(case, us), us)
        finally:
            store.close()
    print(f"store {url.split(':', 1)[0]}, best of {args.rounds} rounds, µs per call:")
    for case, us in best.items():
        print(f"  {case:9} {us:12,.0f}")
    print(
        f"standby / duplicate x{best['standby'] / best['duplicate']:.4f} "
        f"(a second process's pass over a chunk of {CHUNK}, store work only); "
        f"renew / advance x{best['renew'] / best['advance']:.2f}"
    )


if __name__ == "__main__":
    main()

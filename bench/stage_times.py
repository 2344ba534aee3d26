"""When each transfer reached each state, from a kept hub store: where a run's time went.

    PJGW_BENCH_KEEP=/tmp/keep .venv/bin/python bench/hub_e2e.py --transfers 3000 --setups sqlite
    .venv/bin/python bench/stage_times.py /tmp/keep/pjgw-e2e-sqlite-*/dev/hub/hub.db

Reads the store's append-only ``history`` (the first time each transfer reached each state)
and prints, per step of the delivery path, the p50 / p90 / max seconds between the two
states, then when each state was reached after the run's first recorded transfer. This is
how issue #15's stages were found (a step whose p50 is long waits on the part after it).
SQLite files only (``PJGW_BENCH_KEEP`` keeps the dev stack's); read-only.
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
from collections import defaultdict

from core.states import DELIVERY_PATH

PATH = tuple(str(state) for state in DELIVERY_PATH)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="a kept hub store (hub.db)")
    args = parser.parse_args()
    with sqlite3.connect(f"file:{args.database}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT subject_id, state, MIN(at) FROM history WHERE subject = 'transfer' "
            "GROUP BY subject_id, state"
        ).fetchall()
    reached: dict[str, dict[str, float]] = defaultdict(dict)
    for transfer, state, at in rows:
        reached[transfer][state] = at
    if not reached:
        raise SystemExit("no transfer history in this store")
    start = min(min(states.values()) for states in reached.values())
    print(f"{len(reached)} transfers")
    print("step                                   p50 s   p90 s   max s")
    for before, after in itertools.pairwise(PATH):
        gaps = [s[after] - s[before] for s in reached.values() if before in s and after in s]
        if gaps:
            print(
                f"{before:>16} -> {after:<16} {quantile(gaps, 0.5):7.2f} "
                f"{quantile(gaps, 0.9):7.2f} {max(gaps):7.2f}"
            )
    print("state reached (s after the first)  first     p50    last")
    for state in PATH:
        times = [s[state] - start for s in reached.values() if state in s]
        if times:
            print(f"{state:>16} {min(times):15.2f} {quantile(times, 0.5):7.2f} {max(times):7.2f}")


if __name__ == "__main__":
    main()

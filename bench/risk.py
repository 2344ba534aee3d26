"""What screening against risk limits costs per transfer (issue #17), on the embedded SQLite store.

    .venv/bin/python bench/risk.py                 # 300 transfers per case, windows of 1k and 10k
    .venv/bin/python bench/risk.py --transfers 100 --fill 1000,10000,50000

Per transfer, in the same run: ``create_transfer`` alone (the baseline: what the API's
create wrote before the risk checks), then ``create_transfer`` + ``screen`` (the
screening transaction: route lock, window read, verdict, ``admitted_at``) on a route
with no limits, and on a route with a 24 h window limit whose window already holds
``fill`` admitted transfers (the window is read in the screening transaction, so its
cost grows with what the window holds). Prints ms per transfer and the ratio to the
baseline.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from core.ids import ChainId  # noqa: E402
from core.records import (  # noqa: E402
    ChainRecord,
    NewTransfer,
    RiskLimitRecord,
    RouteProtocol,
    RouteRecord,
    TransferKind,
)
from core.states import TransferState  # noqa: E402
from gateway.store import SqlStore  # noqa: E402
from gateway.store.models import Transfer  # noqa: E402
from relayer.risk.holds import screen  # noqa: E402

DAY = 86_400


def _store(url: str) -> SqlStore:
    store = SqlStore(url)
    store.migrate()
    store.upsert_chain(ChainRecord(ChainId("a"), "pujiang"))
    store.upsert_chain(ChainRecord(ChainId("b"), "evm"))
    return store


def _route(store: SqlStore, name: str) -> str:
    store.upsert_route(RouteRecord(name, ChainId("a"), ChainId("b"), RouteProtocol.NOTARY))
    return name


def _new(route: str) -> NewTransfer:
    return NewTransfer(route, TransferKind.ASSET, "0xs", "0xr", "upj", 1000)


def _fill(store: SqlStore, route: str, n: int, now: float) -> None:
    """``n`` transfers admitted within the last day (created one by one, admitted in one go)."""
    for i in range(n):
        store.create_transfer(_new(route), now - DAY / 2 + i * 1e-3)
    with store._write() as s:  # bench set-up only: one UPDATE instead of n screenings
        s.execute(update(Transfer).where(Transfer.route_id == route).values(admitted_at=now - 60))


def _time(store: SqlStore, route: str, n: int, now: float, *, screened: bool) -> float:
    started = time.perf_counter()
    for i in range(n):
        t, _ = store.create_transfer(_new(route), now + i * 1e-3)
        if screened:
            screen(store, [t], TransferState.REQUESTED, "api", now + i * 1e-3, recheck=300.0)
    return (time.perf_counter() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=300)
    parser.add_argument("--fill", default="1000,10000")
    args = parser.parse_args()
    fills = [int(x) for x in args.fill.split(",") if x]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        store = _store(url)
        now = time.time()
        n = args.transfers
        rows: list[tuple[str, float]] = []
        rows.append(("create_transfer alone (baseline)", _time(store, _route(store, "r0"), n,
                                                               now, screened=False)))  # fmt: skip
        rows.append(("create + screen, no limits", _time(store, _route(store, "r1"), n, now,
                                                         screened=True)))  # fmt: skip
        for fill in fills:
            route = _route(store, f"w{fill}")
            store.put_risk_limit(
                RiskLimitRecord(route, "upj", window_seconds=DAY, window_amount=10**30), now
            )
            _fill(store, route, fill, now)
            rows.append((f"create + screen, 24 h window holding {fill:,}",
                         _time(store, route, n, now, screened=True)))  # fmt: skip
        store.close()
    base = rows[0][1]
    print(f"store: sqlite (synchronous=NORMAL); {n} transfers per case")
    for name, ms in rows:
        print(f"{name:45} {ms:7.2f} ms/transfer   x{ms / base:5.2f}")


if __name__ == "__main__":
    main()

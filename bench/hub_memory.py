"""Resident memory of a hub process serving a store of 100,000 transfers (issue 6 target: ≤ 300 MB).

    .venv/bin/python bench/hub_memory.py                    # 100,000 transfers, SQLite
    .venv/bin/python bench/hub_memory.py --transfers 20000

Two hub processes (``pjgw serve``: API + relayer, the same command an
operator runs) are measured in the same run: one on an empty store (the
baseline) and one on a store seeded with ``--transfers`` finished transfers,
each with the history rows (7 state changes) and journal rows (source send,
delivery) a real transfer leaves, plus 1 % still in flight on a route whose
chains point nowhere (so the relayer keeps them, and retries them, in its
passes). Each hub then answers the calls an operator's dashboard makes —
the first 20 pages of ``GET /v1/transfers``, ``/metrics``, ``/readyz`` —
and its ``VmRSS`` / ``VmHWM`` (peak) are read from ``/proc``.

Seeding writes rows with SQLAlchemy Core ``executemany`` on the store's own
tables (the API would take minutes for 100,000 and is measured by
``bench/hub.py``); the hub reads them through its normal code.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.states import DELIVERY_PATH  # noqa: E402 - importable once the root is on the path
from tests.net import free_port  # noqa: E402

PJ, EVM, ROUTE = "pj-bench", "evm-bench", "pj-to-evm"
PJGW = str(Path(sys.executable).parent / "pjgw")
STATES = tuple(str(state) for state in DELIVERY_PATH)


def seed(db_url: str, transfers: int) -> str:
    """Schema, two chains, a route, ``transfers`` rows with history and journal; a client key."""
    from sqlalchemy import insert

    from core.ids import ChainId
    from core.records import ChainRecord, RouteProtocol, RouteRecord
    from gateway.store import SqlStore
    from gateway.store.models import Action, HistoryEntry, Transfer

    store = SqlStore(db_url)
    store.migrate()
    # Chains whose nodes do not exist: the relayer's passes fail to reach them and back off.
    store.upsert_chain(
        ChainRecord(ChainId(PJ), "pujiang", {"url": "http://127.0.0.1:9", "chain_id": PJ})
    )
    store.upsert_chain(
        ChainRecord(
            ChainId(EVM),
            "evm",
            {"chain": EVM, "rpc_url": "http://127.0.0.1:9", "evm_chain_id": 1},
        )
    )
    store.upsert_route(RouteRecord(ROUTE, ChainId(PJ), ChainId(EVM), RouteProtocol.NOTARY))
    key = store.create_api_key("bench", "client", time.time())
    now = time.time()
    batch = 5_000
    with store.engine.begin() as conn:
        for first in range(0, transfers, batch):
            rows, events, actions = [], [], []
            for i in range(first, min(transfers, first + batch)):
                tid = "tr_" + uuid.uuid4().hex
                in_flight = i % 100 == 0
                state = "source_final" if in_flight else "completed"
                rows.append(
                    {
                        "id": tid,
                        "route_id": ROUTE,
                        "source_chain": PJ,
                        "dest_chain": EVM,
                        "kind": "asset",
                        "sender": "0x" + os.urandom(20).hex(),
                        "receiver": "0x" + os.urandom(20).hex(),
                        "denom": "upj",
                        "amount": 1_000 + i,
                        "payload": b"",
                        "timeout_height": 0,
                        "timeout_time": int(now) + 3600,
                        "state": state,
                        "reason": "delivered in block 1234 of evm-bench",
                        "packet_source": PJ,
                        "packet_destination": EVM,
                        "packet_sequence": i + 1,
                        "source_tx": os.urandom(32),
                        "source_height": 100 + i // 50,
                        "source_position": [0, i % 50],
                        "source_event": os.urandom(400),
                        "dest_tx": None if in_flight else os.urandom(32),
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now - 60,
                        "updated_at": now,
                        "lease_owner": None,
                        "lease_until": None,
                        "idempotency_key": f"bench-{i}",
                        "request_hash": os.urandom(32),
                    }
                )
                for step, name in enumerate(STATES[: 3 if in_flight else len(STATES)]):
                    events.append(
                        {
                            "subject": "transfer",
                            "subject_id": tid,
                            "at": now - 60 + step,
                            "state": name,
                            "reason": f"moved to {name}",
                            "tx_hash": None,
                            "chain_id": None,
                        }
                    )
                for step, chain in (("source_submit", PJ), ("deliver", EVM))[
                    : 1 if in_flight else 2
                ]:
                    actions.append(
                        {
                            "subject": "transfer",
                            "subject_id": tid,
                            "step": step,
                            "chain_id": chain,
                            "kind": "bridge.receivePacket",
                            "payload": {"args": ["0x" + os.urandom(300).hex()]},
                            "idempotency_key": f"{tid}:{step}",
                            "status": "succeeded",
                            "tx_hash": os.urandom(32),
                            "height": 1234,
                            "reason": "",
                            "recorded_at": now,
                        }
                    )
            conn.execute(insert(Transfer), rows)
            conn.execute(insert(HistoryEntry), events)
            conn.execute(insert(Action), actions)
    store.close()
    return key


def rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of ``pid`` in KiB, from ``/proc/<pid>/status``."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields["VmRSS"], fields["VmHWM"]


def measure(data_dir: Path, key: str, settle: float) -> tuple[int, int, float]:
    """Start ``pjgw serve`` on ``data_dir``, drive the dashboard calls; (rss, peak, seconds)."""
    port = free_port()
    env = os.environ | {
        "PJGW_DATA_DIR": str(data_dir),
        "PJGW_PORT": str(port),
        "PJGW_LOG_LEVEL": "error",
        "PJGW_RELAYER_POLL_INTERVAL": "0.5",
    }
    log = (data_dir / "hub.log").open("wb")
    hub = subprocess.Popen([PJGW, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        started = time.perf_counter()
        headers = {"X-API-Key": key}
        cursor: str | None = None
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            for _ in range(20):
                params = {"limit": 100} | ({"cursor": cursor} if cursor else {})
                page = client.get("/v1/transfers", params=params)
                page.raise_for_status()
                cursor = page.json().get("next_cursor")
                if not cursor:
                    break
            client.get("/metrics").raise_for_status()
            client.get("/readyz")
        elapsed = time.perf_counter() - started
        time.sleep(settle)  # let the relayer make passes over the in-flight transfers
        rss, peak = rss_kib(hub.pid)
        return rss, peak, elapsed
    finally:
        hub.terminate()
        hub.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--settle", type=float, default=5.0, help="seconds of relayer passes")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="pjgw-mem-") as tmp:
        empty, full = Path(tmp) / "empty", Path(tmp) / "full"
        empty.mkdir()
        full.mkdir()
        key_empty = seed(f"sqlite:///{empty / 'hub.db'}", 0)
        t0 = time.perf_counter()
        key_full = seed(f"sqlite:///{full / 'hub.db'}", args.transfers)
        seeded = time.perf_counter() - t0
        size = (full / "hub.db").stat().st_size / 2**20
        print(f"seeded {args.transfers:,} transfers in {seeded:.1f} s (hub.db {size:,.0f} MiB)")
        base_rss, base_peak, _ = measure(empty, key_empty, args.settle)
        rss, peak, elapsed = measure(full, key_full, args.settle)
    print(f"pjgw serve (API + relayer), SQLite, 20 list pages + /metrics + {args.settle} s")
    print(f"  empty store:        RSS {base_rss / 1024:6.1f} MiB  peak {base_peak / 1024:6.1f} MiB")
    print(
        f"  {args.transfers:>7,} transfers: RSS {rss / 1024:6.1f} MiB  peak {peak / 1024:6.1f} MiB"
        f"  (x{rss / base_rss:.2f} the empty hub; dashboard calls {elapsed:.2f} s)"
    )


if __name__ == "__main__":
    main()

"""``POST /v1/transfers`` throughput and latency: uvicorn + the app on the embedded SQLite store.

    .venv/bin/python bench/hub.py                      # 10 s, 1 client process, 32 in flight
    .venv/bin/python bench/hub.py --seconds 5 --concurrency 64

The hub runs as its own process (``uvicorn`` serving ``gateway.app.create_app``
on a SQLite file in WAL mode; ``synchronous=FULL`` as the store's default,
or ``--synchronous NORMAL``); the
load generator is a separate process keeping ``--concurrency`` requests in
flight over keep-alive connections (httpx). Every request is a distinct
transfer: a real Ed25519-signed Pujiang ``bridge_send`` (signed up front, not
timed) with its own ``Idempotency-Key``, so each one is validated (decode,
signature, sender, arguments), stored ``requested`` and journaled. Both
processes share the machine's cores. Prints requests/s and p50/p90/p99.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.net import free_port  # noqa: E402 - importable once the root is on the path

PJ, EVM, ROUTE = "pj-bench", "evm-bench", "pj-to-evm"
RECEIVER = "0x" + "ab" * 20


def seed(db_url: str) -> str:
    """Schema, two chains, a route and a client key; returns the key."""
    from core.ids import ChainId
    from core.records import ChainRecord, RouteProtocol, RouteRecord
    from gateway.store import SqlStore

    store = SqlStore(db_url)
    store.migrate()
    store.upsert_chain(ChainRecord(ChainId(PJ), "pujiang", {"url": "http://x", "chain_id": PJ}))
    store.upsert_chain(
        ChainRecord(ChainId(EVM), "evm", {"chain": EVM, "rpc_url": "http://x", "evm_chain_id": 1})
    )
    store.upsert_route(RouteRecord(ROUTE, ChainId(PJ), ChainId(EVM), RouteProtocol.NOTARY))
    key = store.create_api_key("bench", "client", time.time())
    store.close()
    return key


def serve(db_url: str, port: int, synchronous: str) -> None:
    import uvicorn

    from gateway.app import create_app
    from gateway.settings import Settings
    from gateway.store import SqlStore

    # no rate limits: one load generator is one address and one key
    settings = Settings(rate_per_address=0, rate_per_key=0)
    app = create_app(settings, SqlStore(db_url, sqlite_synchronous=synchronous))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def bodies(count: int, offset: int) -> list[dict[str, object]]:
    from adapters.pujiang.actions import TxSigner, build_signed_tx

    signer = TxSigner(bytes(range(32)))
    sender = "0x" + signer.address().hex()
    out = []
    for i in range(offset, offset + count):
        amount = 1 + i
        args = [EVM.encode(), bytes.fromhex(RECEIVER[2:]), b"upj", amount, 10_000, 0]
        tx = build_signed_tx(signer, PJ, i, "bridge_send", args)
        out.append(
            {
                "route_id": ROUTE,
                "kind": "asset",
                "sender": sender,
                "receiver": RECEIVER,
                "denom": "upj",
                "amount": str(amount),
                "timeout_height": 10_000,
                "signed_tx": "0x" + tx.hex(),
            }
        )
    return out


async def load(
    url: str, key: str, seconds: float, concurrency: int, work: list[dict[str, object]]
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    next_index = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            nonlocal errors, next_index
            while time.perf_counter() < deadline and next_index < len(work):
                i = next_index
                next_index += 1
                t0 = time.perf_counter()
                response = await client.post(
                    "/v1/transfers",
                    json=work[i],
                    headers={"X-API-Key": key, "Idempotency-Key": f"bench-{i}"},
                )
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 201:
                    errors += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def client_process(url: str, key: str, seconds: float, concurrency: int, queue: object) -> None:
    work = bodies(int(seconds * 4000) + 1000, 0)  # more than the hub can take in the window
    queue.put(asyncio.run(load(url, key, seconds, concurrency, work)))  # type: ignore[attr-defined]


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--synchronous", choices=("FULL", "NORMAL"), default="FULL", help="SQLite durability"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="pjgw-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        key = seed(db_url)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", db_url, str(port), args.synchronous], cwd=ROOT
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            ctx = multiprocessing.get_context("spawn")
            queue = ctx.Queue()
            client = ctx.Process(
                target=client_process, args=(url, key, args.seconds, args.concurrency, queue)
            )
            client.start()
            latencies, errors, elapsed = queue.get()
            client.join()
        finally:
            server.terminate()
            server.wait(10)
    ordered = sorted(latencies)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    print(
        f"POST /v1/transfers (signed_tx, SQLite WAL synchronous={args.synchronous}), "
        f"1 client process x {args.concurrency} in flight, {elapsed:.1f} s"
    )
    print(f"  requests: {len(ordered)}  errors: {errors}")
    print(f"  throughput: {len(ordered) / elapsed:,.0f} requests/s")
    print(
        f"  latency ms: p50 {percentile(ordered, 0.5) * 1e3:.1f}  "
        f"p90 {percentile(ordered, 0.9) * 1e3:.1f}  p99 {percentile(ordered, 0.99) * 1e3:.1f}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        main()

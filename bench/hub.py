"""``POST /v1/transfers`` throughput and latency: uvicorn + the app on the embedded SQLite store.

    .venv/bin/python bench/hub.py                      # 10 s, 1 client process, 32 in flight
    .venv/bin/python bench/hub.py --seconds 5 --concurrency 64
    .venv/bin/python bench/hub.py --postgres --workers 1,2,4   # throw-away PostgreSQL

The hub runs as its own process (``uvicorn`` serving ``gateway.app.create_app``
on a SQLite file in WAL mode; ``synchronous=FULL`` as the store's default,
or ``--synchronous NORMAL``); the
load generator is a separate process keeping ``--concurrency`` requests in
flight over keep-alive connections (httpx). Every request is a distinct
transfer: a real Ed25519-signed Pujiang ``bridge_send`` (signed up front, not
timed) with its own ``Idempotency-Key``, so each one is validated (decode,
signature, sender, arguments), stored ``requested`` and journaled. Both
processes share the machine's cores. Prints requests/s and p50/p90/p99.

First, in the same run, the same load against a bare FastAPI app (``--serve-bare``:
one POST endpoint taking the same JSON as a dict, no middleware, no store): the
stack's ceiling on this machine, and the hub's figure as a share of it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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


def serve_pg(db_url: str, workers: int, port: int) -> None:
    """The hub on PostgreSQL with ``workers`` uvicorn worker processes (each its own app)."""
    import uvicorn

    os.environ.update(
        {
            "PJGW_DATABASE_URL": db_url,
            "PJGW_RATE_PER_ADDRESS": "0",  # one load generator is one address and one key
            "PJGW_RATE_PER_KEY": "0",
            "PJGW_LOG_LEVEL": "warning",
        }
    )
    uvicorn.run(
        "gateway.app:create_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


def serve_bare(port: int) -> None:
    """The ceiling: a bare FastAPI app (no middleware, no store) taking the same JSON body."""
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/transfers", status_code=201)
    async def create(body: dict[str, Any]) -> dict[str, Any]:
        return {"id": "tr_bare", "state": "requested", "route_id": body.get("route_id")}

    @app.get("/v1/transfers")
    async def listing() -> dict[str, Any]:
        return {"items": [{"id": "tr_bare"}], "next_cursor": None}

    @app.get("/v1/transfers/{transfer_id}")
    async def read(transfer_id: str) -> dict[str, Any]:
        return {"id": transfer_id, "state": "requested"}

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


def request_bytes(key: str, index: int, body: dict[str, object]) -> bytes:
    """One keep-alive ``POST /v1/transfers``, encoded before the clock starts."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /v1/transfers HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"X-API-Key: {key}\r\nIdempotency-Key: bench-{index}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    """Send one request, read its whole answer (``Content-Length``); the status."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


async def load(
    url: str, encoded: list[bytes], seconds: float, concurrency: int, expected: int
) -> tuple[list[float], int, float]:
    """``concurrency`` keep-alive connections, one request in flight on each, the requests of
    ``encoded`` in order until it runs out or ``seconds`` pass. A bare asyncio HTTP/1.1
    client: httpx's async client topped out near 150 requests/s here, below the servers it
    was measuring (it was the bottleneck of the figures before 2026-12-06)."""
    latencies: list[float] = []
    errors = 0
    next_index = 0
    host, port = url.removeprefix("http://").split(":")
    started = time.perf_counter()
    deadline = started + seconds

    async def worker() -> None:
        nonlocal errors, next_index
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            while time.perf_counter() < deadline and next_index < len(encoded):
                i = next_index
                next_index += 1
                t0 = time.perf_counter()
                status = await exchange(reader, writer, encoded[i])
                latencies.append(time.perf_counter() - t0)
                if status != expected:
                    errors += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


Result = tuple[list[float], int, float]


def client_process(
    url: str, key: str, seconds: float, concurrency: int, offset: int, queue: object
) -> None:
    """``offset``: where this run's nonces (and idempotency keys) start, so runs against one
    database never repeat a transaction."""
    work = bodies(int(seconds * 4000) + 1000, offset)  # more than the hub can take in the window
    posts = [request_bytes(key, offset + i, body) for i, body in enumerate(work)]
    created = asyncio.run(load(url, posts, seconds, concurrency, 201))
    page = httpx.get(url + "/v1/transfers", params={"limit": 200}, timeout=30).json()
    ids = [item["id"] for item in page["items"]]
    gets = [
        f"GET /v1/transfers/{ids[i % len(ids)]} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
        for i in range(int(seconds * 8000) + 1000)
    ]
    read = asyncio.run(load(url, gets, seconds, concurrency, 200))
    queue.put((created, read))  # type: ignore[attr-defined]


def run_load(
    serve_args: list[str], key: str, seconds: float, concurrency: int, offset: int = 0
) -> tuple[Result, Result]:
    """Start a server process (``--serve ...``, ``--serve-pg ...``, ``--serve-bare``), load it,
    stop it."""
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, *serve_args, str(port)], cwd=ROOT)
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
            target=client_process, args=(url, key, seconds, concurrency, offset, queue)
        )
        client.start()
        result = queue.get()
        client.join()
    finally:
        server.terminate()
        server.wait(10)
    return result  # type: ignore[no-any-return]


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
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a throw-away PostgreSQL cluster (fsync off) instead of SQLite, see --workers",
    )
    parser.add_argument("--workers", default="1,2,4", help="uvicorn workers per run (--postgres)")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory(prefix="pjgw-bench-") as tmp:
        db_url = f"sqlite:///{Path(tmp) / 'hub.db'}"
        key = seed(db_url)
        bare = run_load(["--serve-bare"], key, args.seconds, args.concurrency)
        report("bare FastAPI (same bodies, no middleware, no store: the ceiling here)", bare, args)
        if not args.postgres:
            result = run_load(
                ["--serve", db_url, args.synchronous], key, args.seconds, args.concurrency
            )
            report(f"hub, SQLite WAL synchronous={args.synchronous}", result, args, bare)
            return
        from tests.store.pg import PgCluster, find_pg_bin

        cluster = PgCluster(find_pg_bin())
        cluster.start()
        try:
            key = seed(cluster.url)
            for run, workers in enumerate(int(w) for w in args.workers.split(",")):
                serve_args = ["--serve-pg", cluster.url, str(workers)]
                offset = run * 1_000_000
                result = run_load(serve_args, key, args.seconds, args.concurrency, offset)
                report(f"hub, PostgreSQL, {workers} uvicorn workers", result, args, bare)
        finally:
            cluster.stop()


def report(
    server: str,
    results: tuple[Result, Result],
    args: argparse.Namespace,
    bare: tuple[Result, Result] | None = None,
) -> None:
    """Requests/s and latency of the POST run then the GET run, and their share of bare's."""
    print(f"{server}: 1 client process x {args.concurrency} in flight, {args.seconds:g} s a run")
    for name, (latencies, errors, elapsed), base in zip(
        ("POST /v1/transfers", "GET /v1/transfers/{id}"),
        results,
        bare or (None, None),
        strict=True,
    ):
        ordered = sorted(latencies)
        rate = len(ordered) / elapsed
        share = f" ({rate / (len(base[0]) / base[2]):.0%} of bare)" if base else ""
        print(
            f"  {name}: {rate:,.0f} requests/s{share}, {len(ordered)} requests, {errors} errors; "
            f"latency ms p50 {percentile(ordered, 0.5) * 1e3:.1f}  "
            f"p90 {percentile(ordered, 0.9) * 1e3:.1f}  p99 {percentile(ordered, 0.99) * 1e3:.1f}"
        )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[4]), sys.argv[3])
    elif len(sys.argv) == 5 and sys.argv[1] == "--serve-pg":
        serve_pg(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--serve-bare":
        serve_bare(int(sys.argv[2]))
    else:
        main()

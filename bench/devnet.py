"""Devnet node throughput: signed transfers committed per second, 4 validators, 1 s blocks.

    .venv/bin/python bench/devnet.py                   # both measurements (about 40 s)
    .venv/bin/python bench/devnet.py --mode inproc     # DevnetNode in this process
    .venv/bin/python bench/devnet.py --mode http       # a `python -m devnet run` process
    .venv/bin/python bench/devnet.py --mode batch      # the same, 100 txs per POST /v1/txs

Every transaction is a real Ed25519-signed ``transfer`` (signed up front, not
timed), checked by the node on admission (decode, chain id, signature, nonce)
and executed in a block signed by all 4 validators (BLS) and stored in SQLite.

* ``inproc``: the node's own block timer (1 s); two threads call ``submit`` as
  fast as they can, as the API's worker threads would.
* ``http``: the node as a subprocess on a loopback port; ``--clients`` client
  processes each keep ``--concurrency`` ``POST /v1/txs`` requests in flight over
  keep-alive connections (the client processes share the machine's cores with
  the node).
* ``batch``: as ``http``, each request a batch ``POST /v1/txs`` ``{"txs": [...]}``
  of the lane's next ``--batch`` transactions (the answer has one result each).

The figure is ``transactions / (last commit - first submission)``, the time to
the block that commits the last one included, so block waits are counted.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

# This file is bench/devnet.py: run as a script, its folder comes first on sys.path and
# its own name would shadow the devnet package. Put the repository there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import httpx  # noqa: E402

from devnet import keys  # noqa: E402
from devnet.config import NodeConfig  # noqa: E402
from devnet.node import DevnetNode  # noqa: E402
from proofs.pujiang import codec  # noqa: E402
from tests.net import free_port as _free_port  # noqa: E402

SEED = hashlib.sha256(b"pujiang devnet bench").digest()
CHAIN = "pj-bench"
REPO = Path(__file__).resolve().parent.parent


def sign_transfers(count: int, accounts: int) -> list[bytes]:
    """``count`` transfers, round-robin over ``accounts`` senders, nonces in order."""
    signers = [keys.account_key(SEED, i) for i in range(accounts)]
    addresses = [keys.Account(k).address for k in signers]
    return [
        keys.sign_tx(
            signers[i % accounts],
            CHAIN,
            i // accounts,
            "transfer",
            [addresses[(i + 1) % accounts], b"upj", 1],
        )
        for i in range(count)
    ]


def bench_inproc(count: int, accounts: int) -> dict[str, float]:
    txs = sign_transfers(count, accounts)
    data = Path(tempfile.mkdtemp(prefix="devnet-bench-"))
    config = NodeConfig(
        data_dir=data, chain_id=CHAIN, validators=4, block_time=1.0, accounts=accounts, seed=SEED
    )
    node = DevnetNode(config)
    try:
        node.start()
        start_height = node.height
        # Two submitters, each owning half of the senders (so each keeps nonce order).
        halves = [[], []]  # type: ignore[var-annotated]
        for i, tx in enumerate(txs):
            halves[(i % accounts) % 2].append(tx)
        begin = time.perf_counter()
        threads = [threading.Thread(target=lambda h=h: [node.submit(t) for t in h]) for h in halves]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        admitted = time.perf_counter()
        last = node.hash_fn(txs[-1])
        while node.query_tx(last)["status"] != "committed" or len(node.mempool):
            time.sleep(0.005)
        done = time.perf_counter()
        blocks = node.height - start_height
        committed = sum(node.header(h).tx_count for h in range(start_height + 1, node.height + 1))
    finally:
        node.close()
        shutil.rmtree(data, ignore_errors=True)
    return {
        "txs": committed,
        "admit_s": admitted - begin,
        "total_s": done - begin,
        "tps": committed / (done - begin),
        "blocks": blocks,
    }


def _post(body: dict[str, object]) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        "POST /v1/txs HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, bytes]:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return int(head[9:12]), await reader.readexactly(length)


async def _post_all(url: str, lanes: list[list[bytes]], batch: int) -> None:
    """One request in flight per lane, on its own keep-alive connection; a lane owns whole
    senders, so each sender's nonces reach the node in order (the mempool admits only the
    next nonce). ``batch`` > 1: each request is a batch of the lane's next ``batch``
    transactions. A bare asyncio HTTP/1.1 client: httpx's async client capped near 150
    requests/s per process on this machine, below what the node answers."""
    host, port = url.removeprefix("http://").split(":")

    async def worker(lane: list[bytes]) -> None:
        if batch <= 1:
            requests = [_post({"tx": "0x" + tx.hex()}) for tx in lane]
        else:
            requests = [
                _post({"txs": ["0x" + tx.hex() for tx in lane[start : start + batch]]})
                for start in range(0, len(lane), batch)
            ]
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for raw in requests:
                status, answer = await _exchange(reader, writer, raw)
                if batch <= 1 and status != 202:
                    raise RuntimeError(answer.decode()[:500])
                if batch > 1:
                    refused = [r for r in json.loads(answer)["results"] if r["status"] != 202]
                    if status != 200 or refused:
                        raise RuntimeError(answer.decode()[:500])
        finally:
            writer.close()

    await asyncio.gather(*(worker(lane) for lane in lanes))


def _client_process(url: str, lanes: list[list[bytes]], batch: int) -> None:
    asyncio.run(_post_all(url, lanes, batch))


def bench_http(
    count: int, accounts: int, clients: int, concurrency: int, batch: int = 1
) -> dict[str, float]:
    txs = sign_transfers(count, accounts)
    data = Path(tempfile.mkdtemp(prefix="devnet-bench-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    args = [
        sys.executable, "-m", "devnet", "run", "--data", str(data), "--port", str(port),
        "--chain-id", CHAIN, "--validators", "4", "--block-time", "1s",
        "--accounts", str(accounts), "--seed", SEED.hex(), "--log-level", "warning",
    ]  # fmt: skip
    node = subprocess.Popen(args, cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/v1/status", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("node did not start")
            time.sleep(0.1)
        start_height = httpx.get(url + "/v1/status").json()["latest_height"]
        # Each lane (one in-flight request) owns whole senders, so nonces arrive in
        # order per sender; lane w belongs to client process w % clients.
        lanes: list[list[bytes]] = [[] for _ in range(clients * concurrency)]
        for i, tx in enumerate(txs):
            lanes[(i % accounts) % len(lanes)].append(tx)
        lanes = [lane for lane in lanes if lane]
        shares = [lanes[c::clients] for c in range(clients)]
        context = multiprocessing.get_context("spawn")
        begin = time.perf_counter()
        workers = [
            context.Process(target=_client_process, args=(url, share, batch)) for share in shares
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        admitted = time.perf_counter()
        with httpx.Client(base_url=url, timeout=10) as client:
            while True:
                receipts = [
                    client.get(f"/v1/txs/0x{hashlib.sha256(lane[-1]).hexdigest()}").json()
                    for lane in lanes
                ]
                if all(r["status"] == "committed" for r in receipts):
                    break
                time.sleep(0.01)
            done = time.perf_counter()
            tip = client.get("/v1/status").json()["latest_height"]
            committed = 0
            for height in range(start_height + 1, tip + 1):
                header = client.get(f"/v1/blocks/{height}").json()["header"]
                committed += codec.decode_header(bytes.fromhex(header[2:])).tx_count
    finally:
        os.kill(node.pid, signal.SIGTERM)
        node.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    return {
        "txs": committed,
        "admit_s": admitted - begin,
        "total_s": done - begin,
        "tps": committed / (done - begin),
        "blocks": tip - start_height,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("inproc", "http", "batch", "both"), default="both")
    parser.add_argument("--txs", type=int, default=20_000)
    parser.add_argument("--http-txs", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=64)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100, help="transactions per batch request")
    parser.add_argument("--batch-txs", type=int, default=40_000)
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}"
    )
    if args.mode in ("inproc", "both"):
        r = bench_inproc(args.txs, args.accounts)
        print(
            f"in-process: {r['txs']:.0f} transfers in {r['total_s']:.2f} s over {r['blocks']:.0f} "
            f"blocks (admitted in {r['admit_s']:.2f} s): {r['tps']:,.0f} tx/s committed"
        )
    if args.mode in ("http", "both"):
        r = bench_http(args.http_txs, args.accounts, args.clients, args.concurrency)
        print(
            f"over HTTP:  {r['txs']:.0f} transfers in {r['total_s']:.2f} s over {r['blocks']:.0f} "
            f"blocks (posted in {r['admit_s']:.2f} s, {args.clients} client processes x "
            f"{args.concurrency} in flight): {r['tps']:,.0f} tx/s committed"
        )
    if args.mode in ("batch", "both"):
        r = bench_http(args.batch_txs, args.accounts, args.clients, args.concurrency, args.batch)
        print(
            f"batches:    {r['txs']:.0f} transfers in {r['total_s']:.2f} s over {r['blocks']:.0f} "
            f"blocks (posted in {r['admit_s']:.2f} s as batches of {args.batch}, {args.clients} "
            f"client processes x {args.concurrency} in flight): {r['tps']:,.0f} tx/s committed"
        )


if __name__ == "__main__":
    main()

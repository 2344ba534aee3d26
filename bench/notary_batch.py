"""Notary: CPU per batch member (issue #15) when attesting DELIVERY batches of a real devnet.

    .venv/bin/python bench/notary_batch.py                          # this tree only
    .venv/bin/python bench/notary_batch.py --baseline /tmp/nt-base  # and an older tree

A devnet node (``python -m devnet run --instant``, its own process) serves a chain whose
blocks hold ``--sends`` real signed ``bridge_send`` transactions, ``--per-block`` a block
(built in this process before the node starts, so no block timer interferes). A fresh
``Notary`` (its own adapters, light client files and signed log, in a worker process:
``--worker``) is then asked to attest every packet in batches of ``--batch`` members in
sequence order, built as the relayer builds them (the route's packets in order, the root
over the destination bridge's leaves). The destination is an EVM bridge: its leaves,
statement digest and committee epoch are pure (no anvil is needed, the notary reads
nothing from it for a delivery). What is timed is ``Notary.attest_batch`` from the worker's
own CPU clock (``time.process_time``): the listing of each block, every proof fetched,
verified and decoded, the root, the signature and the signed-log write; the node's CPU is
in its own process and not counted. The light client is anchored before timing
(``Notary.follow``) and a first block of ``WARMUP`` sends is attested untimed, as a running
notary has done before.

The hub's side of the same work (``--hub-batches``, 0 to skip): a SQLite store holding that
many assembled DELIVERY batches of ``--batch`` recorded packets, and the CPU of one
``GET /v1/notary/batches`` answer's work: ``batch_work`` (``Store.batches_owed`` and the
members' JSON models) and its JSON body, per member, best of 10.

``--baseline DIR``: the same worker run again from the source tree at ``DIR`` (e.g. ``git
archive main | tar -x -C DIR``) against the same node, so one run prints both figures and
their ratio. Each tree runs ``--rounds`` times, alternating, and the best round is kept.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SEED = hashlib.sha256(b"pujiang notary batch bench").digest()
CHAIN = "pj-notary-bench"
DEST = "evm-bench"
ROUTE = "pj-to-evm"
BRIDGE = "0x" + "b7" * 20
NOTARY_KEY = hashlib.sha256(b"bench notary").digest()
WARMUP = 8
"""Sends of a first block the notary attests untimed: a running notary's steady state
(connections open, caches and the adapter's decoded-leaf memo in use)."""


def _use_tree(tree: Path) -> None:
    """Import the project from ``tree`` (this file's folder would shadow ``devnet``)."""
    here = {HERE, tree.resolve() / "bench"}
    sys.path[:] = [str(tree.resolve())] + [
        p for p in sys.path if Path(p or ".").resolve() not in here
    ]


def build_chain(data: Path, sends: int, per_block: int, accounts: int) -> list[int]:
    """A devnet chain in ``data`` whose blocks hold the sends; the heights holding them, the
    first one a block of ``WARMUP`` sends of its own (attested untimed)."""
    from devnet import keys
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=data, chain_id=CHAIN, block_time=None, seed=SEED, accounts=accounts
    )
    node = DevnetNode(config)
    try:
        signers = [keys.account_key(SEED, i) for i in range(accounts)]
        deadline = (int(time.time()) + 30 * 24 * 3600) * 1000
        txs = [
            keys.sign_tx(
                signers[i % accounts],
                CHAIN,
                i // accounts,
                "bridge_send",
                [DEST.encode(), b"\x33" * 20, b"upj", 1, 0, deadline],
            )
            for i in range(WARMUP + sends)
        ]
        node.produce_block()
        heights = [node.produce_block(txs[:WARMUP]).height]
        for start in range(WARMUP, WARMUP + sends, per_block):
            heights.append(node.produce_block(txs[start : start + per_block]).height)
        node.produce_block()
    finally:
        node.close()
    return heights


def start_node(data: Path) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    from tests.net import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "devnet", "run", "--data", str(data), "--port", str(port)]
    args += ["--instant", "--log-level", "warning"]
    node = subprocess.Popen(args, cwd=REPO)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/v1/status", timeout=1).status_code == 200:
                return node, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or node.poll() is not None:
            node.kill()
            raise RuntimeError("the devnet node did not start")
        time.sleep(0.1)


async def _worker(url: str, heights: list[int], batch: int, data: Path) -> dict[str, float]:
    """Attest every packet of ``heights`` in batches; the notary's CPU and wall time."""
    from adapters.evm.adapter import EvmAdapter
    from adapters.evm.settings import EvmChainSettings
    from adapters.pujiang.adapter import PujiangAdapter
    from adapters.pujiang.settings import PujiangSettings
    from core.batches import BatchKind
    from core.types import EventKind
    from notary import Notary, WorkItem
    from notary.batches import BatchWork
    from notary.service import Route
    from proofs.hashing import get_hash_function
    from proofs.notary.batch import compute_batch_root

    def adapters() -> dict[str, object]:
        source = PujiangAdapter(PujiangSettings(url=url, chain_id=CHAIN, retry_attempts=1))
        dest = EvmAdapter(
            EvmChainSettings(
                chain=DEST, rpc_url="http://127.0.0.1:9", evm_chain_id=31337, bridge_address=BRIDGE
            )
        )
        return {CHAIN: source, DEST: dest}

    # The hub's side, not timed: the packets in sequence order and the batches' roots.
    hub = adapters()
    events = []
    for height in heights:
        events += [e for e in await hub[CHAIN].events(height, height)]  # type: ignore[attr-defined]
    sends = [e for e in events if e.kind is EventKind.SEND_PACKET]
    packets = [hub[CHAIN].bridge().packet_of(e) for e in sends]  # type: ignore[attr-defined]
    acting = hub[DEST].bridge()  # type: ignore[attr-defined]
    hash_fn = get_hash_function(acting.batch_hash_name())
    items = [
        WorkItem(f"t-{p.sequence}", ROUTE, CHAIN, DEST, p.sequence, int(e.height), e.tx_hash,
                 tuple(e.position))
        for e, p in zip(sends, packets, strict=True)
    ]  # fmt: skip
    works = []
    warm = sum(1 for i in items if i.height == heights[0])
    starts = [0, *range(warm, len(items), batch)]  # the warm-up block, then the batches
    for n, (start, end) in enumerate(zip(starts, [*starts[1:], len(items)], strict=True)):
        members = items[start:end]
        leaves = [acting.batch_leaf(p) for p in packets[start:end]]
        root = compute_batch_root(leaves, hash_fn=hash_fn)
        works.append(
            BatchWork(f"b-{n}", ROUTE, CHAIN, DEST, BatchKind.DELIVERY, 1, root, tuple(members))
        )
    for adapter in hub.values():
        await adapter.aclose()  # type: ignore[attr-defined]

    notary = Notary(NOTARY_KEY, adapters(), {ROUTE: Route(ROUTE, CHAIN, DEST)}, data)
    try:
        failed = await notary.follow()  # anchor (TOFU) as a running notary does, untimed
        if CHAIN in failed:
            raise RuntimeError(f"notary could not follow {CHAIN}: {failed[CHAIN]}")
        await notary.attest_batch(works[0])  # the warm-up block, untimed
        cpu = wall = 0.0
        for work in works[1:]:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            await notary.attest_batch(work)
            cpu += time.process_time() - cpu0
            wall += time.perf_counter() - wall0
    finally:
        for adapter in notary.adapters.values():
            await adapter.aclose()
        notary.close()
    timed = works[1:]
    members = sum(w.size for w in timed)
    return {"members": members, "batches": len(timed), "cpu_s": cpu, "wall_s": wall}


def _hub_worker(batches: int, batch: int, data: Path) -> dict[str, float]:
    """The CPU of answering ``GET /v1/notary/batches`` for ``batches`` owed batches."""
    from pydantic import TypeAdapter

    from core.batches import BatchKind
    from core.ids import ChainId, PacketId
    from core.records import (
        ChainRecord,
        NewTransfer,
        RouteProtocol,
        RouteRecord,
        SeenPacket,
        TransferKind,
    )
    from core.states import TransferState
    from gateway.routers.notary import batch_work
    from gateway.schemas.notary import BatchWorkOut
    from gateway.store import SqlStore

    store = SqlStore(f"sqlite:///{data}/hub.db")
    store.migrate()
    source, dest = ChainId(CHAIN), ChainId(DEST)
    for chain in (source, dest):
        store.upsert_chain(ChainRecord(chain, "evm"))
    store.upsert_route(RouteRecord(ROUTE, source, dest, RouteProtocol.NOTARY))
    members = batches * batch
    fields = {"source_chain": CHAIN, "dest_chain": DEST, "sender": b"\x01" * 20,
              "receiver": b"\x02" * 20, "denom": "upj", "amount": 1, "payload": b"",
              "timeout_height": 0, "timeout_time_ms": 1}  # fmt: skip
    seen = [
        SeenPacket(
            NewTransfer(
                route_id=ROUTE,
                kind=TransferKind.ASSET,
                sender="0x" + "01" * 20,
                receiver="0x" + "02" * 20,
                denom="upj",
                amount=1,
                packet=PacketId(source, dest, n),
                source_tx=hashlib.sha256(b"%d" % n).digest(),
                state=TransferState.PROVEN,
            ),
            "seen",
            5 + n // 1000,
            (n % 1000,),
            b"\x05" * 300,
            {**fields, "sequence": n},
            {**fields, "sequence": n, "packet": b"\x07" * 200},
        )
        for n in range(1, members + 1)
    ]
    store.record_packets(seen, 1.0)
    ids = [store.transfer_by_packet(s.new.packet).id for s in seen]  # type: ignore[arg-type, union-attr]
    for n in range(batches):
        store.create_batch(ROUTE, int(BatchKind.DELIVERY), 1, bytes([n]) * 32, b"\x02" * 32,
                           ids[n * batch : (n + 1) * batch], 2.0, hold_until=99.0)  # fmt: skip
    answer = TypeAdapter(list[BatchWorkOut])
    best = float("inf")
    for _ in range(10):
        started = time.process_time()
        body = answer.dump_json(batch_work(store, None, "0x" + "aa" * 20, batches))  # type: ignore[arg-type]
        best = min(best, time.process_time() - started)
    store.close()
    if body.count(b'"transfer_id"') != members:
        raise RuntimeError("the answer does not hold every member")
    return {"members": members, "batches": batches, "cpu_s": best, "wall_s": best}


def run_worker(
    tree: Path, url: str, heights: list[int], batch: int, hub_batches: int = 0
) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="notary-bench-"))
    try:
        args = [sys.executable, str(Path(__file__).resolve()), "--worker", "--tree", str(tree)]
        args += ["--url", url, "--batch", str(batch), "--heights", ",".join(map(str, heights))]
        args += ["--data", str(data), "--hub-batches", str(hub_batches)]
        out = subprocess.run(args, check=True, capture_output=True, text=True, cwd=tree)
    except subprocess.CalledProcessError as err:
        sys.stderr.write(err.stderr)
        raise
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2048)
    parser.add_argument("--per-block", type=int, default=1024, help="sends per devnet block")
    parser.add_argument("--batch", type=int, default=256, help="members per batch")
    parser.add_argument("--accounts", type=int, default=16, help="sending accounts")
    parser.add_argument("--rounds", type=int, default=2, help="runs per tree (best kept)")
    parser.add_argument("--hub-batches", type=int, default=4, help="owed batches (hub part)")
    parser.add_argument("--baseline", type=Path, help="an older source tree to compare with")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, default=REPO, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--heights", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    _use_tree(args.tree)
    if args.worker:
        import logging

        logging.disable(logging.INFO)  # the per-packet lines cost the same in both trees
        if args.url == "hub":
            figures = _hub_worker(args.hub_batches, args.batch, args.data)
        else:
            heights = [int(h) for h in args.heights.split(",")]
            figures = asyncio.run(_worker(args.url, heights, args.batch, args.data))
        print(json.dumps(figures))
        return

    data = Path(tempfile.mkdtemp(prefix="notary-bench-chain-"))
    node = None
    try:
        heights = build_chain(data, args.sends, args.per_block, args.accounts)
        node, url = start_node(data)
        trees = {"this tree": REPO} | ({"baseline": args.baseline} if args.baseline else {})
        best: dict[str, dict[str, float]] = {}
        hub: dict[str, dict[str, float]] = {}
        for _round in range(args.rounds):
            for name, tree in trees.items():
                got = run_worker(tree, url, heights, args.batch)
                if name not in best or got["cpu_s"] < best[name]["cpu_s"]:
                    best[name] = got
                if args.hub_batches:
                    got = run_worker(tree, "hub", [0], args.batch, args.hub_batches)
                    if name not in hub or got["cpu_s"] < hub[name]["cpu_s"]:
                        hub[name] = got
    finally:
        if node is not None:
            os.kill(node.pid, signal.SIGTERM)
            node.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    print(
        f"{args.sends} sends in {len(heights) - 1} devnet blocks, batches of {args.batch}, "
        f"best of {args.rounds}"
    )
    for name, got in best.items():
        per = 1000 * got["cpu_s"] / got["members"]
        print(
            f"  {name:10s} {int(got['members'])} members in {int(got['batches'])} batches: "
            f"{per:.3f} ms CPU/member, {1000 * got['wall_s'] / got['batches']:.1f} ms wall/batch"
        )
    if "baseline" in best:
        ours, base = best["this tree"], best["baseline"]
        print(f"  ratio baseline/this tree: {base['cpu_s'] / ours['cpu_s']:.2f}x CPU per member")
    if hub:
        print(f"hub: GET /v1/notary/batches for {args.hub_batches} owed batches (SQLite)")
        for name, got in hub.items():
            per = 1e6 * got["cpu_s"] / got["members"]
            print(f"  {name:10s} {int(got['members'])} members: {per:.1f} us CPU/member")
        if "baseline" in hub:
            ratio = hub["baseline"]["cpu_s"] / hub["this tree"]["cpu_s"]
            print(f"  ratio baseline/this tree: {ratio:.2f}x CPU per member")


if __name__ == "__main__":
    main()

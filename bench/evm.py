"""EVM adapter benchmark against a real anvil: proofs, log scanning, transaction throughput.

    .venv/bin/python bench/evm.py            # about a minute
    .venv/bin/python bench/evm.py --quick    # fewer transactions, a few seconds

What is measured (wall time of ``time.perf_counter``; anvil runs on the same
machine and shares its cores, as it does in CI):

* **transactions per second**, submitted through ``EvmAdapter`` and confirmed
  (receipt mined, status 1): ``bridge.sendNative`` calls from one account with
  gas estimated by the node, (a) one in flight (submit, wait for the receipt,
  next), (b) a window of 50 in flight (50 workers, each submitting and waiting
  in turn), (c) ``submit_many`` of 1,000 signed transactions in one JSON-RPC
  batch (one batch of estimates, one batch of sends), until every receipt is in;
* **receipt proof build + verify per event** for a block of 200 transactions
  (200 ``SendPacket`` events): the adapter's path (receipts fetched once, the
  block's trie built once, each proof cut from it, then verified by
  ``EvmLightClient.verify_log``), and the naive path of rebuilding the trie for
  each event with ``proofs.mpt.prove_receipt``;
* **log scanning** of 10,000 ``SendPacket`` events (the batches of (c)): the
  adapter's ``events`` (``eth_getLogs`` in chunks plus eth-abi decoding into
  ``ChainEvent``) and the reorg-aware ``LogScanner`` (the same plus remembered
  block hashes), in events per second.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.evm.adapter import EvmAdapter
from adapters.evm.artifacts import load_artifact
from adapters.evm.node import AnvilConfig, AnvilNode
from adapters.evm.rpc import JsonRpcClient
from adapters.evm.settings import EvmChainSettings
from core.types import ChainAction, ChainEvent
from proofs.evm.header import decode_header
from proofs.mpt import prove_receipt, receipt_from_rpc, verify_receipt_proof

CHAIN_ID = 31337
LOCAL_CHAIN = "anvil-31337"
REMOTE_CHAIN = "pujiang-main"


@dataclass(frozen=True)
class Plan:
    sequential: int
    windowed: int
    batches: int
    batch_size: int = 1_000
    window: int = 50
    block_txs: int = 200


FULL = Plan(sequential=300, windowed=2_000, batches=10)
QUICK = Plan(sequential=50, windowed=300, batches=2)


async def deploy(rpc: JsonRpcClient, name: str, *args: Any, sender: str) -> str:
    artifact = load_artifact(name)
    tx = {"from": sender, "data": "0x" + artifact.encode_deploy(*args).hex(), "gas": hex(10**7)}
    tx_hash = await rpc.call("eth_sendTransaction", tx)
    while (receipt := await rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
        await asyncio.sleep(0.01)
    if int(receipt["status"], 16) != 1:
        raise SystemExit(f"deploying {name} failed")
    return str(receipt["contractAddress"]).lower()


class Sends:
    """Numbered ``bridge.sendNative`` actions (each emits one SendPacket)."""

    def __init__(self, deadline: int) -> None:
        self.deadline = deadline
        self.count = 0

    def next(self, gas: int | None = None) -> ChainAction:
        self.count += 1
        receiver = self.count.to_bytes(20, "big")
        payload: dict[str, object] = {
            "args": [REMOTE_CHAIN, receiver, 0, self.deadline],
            "value": 1_000,
        }
        if gas is not None:
            payload["gas"] = gas
        return ChainAction("bridge.sendNative", payload, f"bench-{self.count}")


async def timed(fn: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await fn()
    return time.perf_counter() - start


async def throughput(adapter: EvmAdapter, sends: Sends, plan: Plan) -> list[tuple[str, str]]:
    rows = []

    async def one_at_a_time() -> None:
        for _ in range(plan.sequential):
            receipt = await adapter.wait_receipt(await adapter.submit(sends.next()))
            assert receipt.success

    seconds = await timed(one_at_a_time)
    rows.append(("tx/s, 1 in flight (submit → receipt)", f"{plan.sequential / seconds:,.0f}"))

    async def windowed() -> None:
        todo = iter(range(plan.windowed))

        async def worker() -> None:
            for _ in todo:
                receipt = await adapter.wait_receipt(await adapter.submit(sends.next()))
                assert receipt.success

        async with asyncio.TaskGroup() as group:
            for _ in range(plan.window):
                group.create_task(worker())

    seconds = await timed(windowed)
    rows.append((f"tx/s, {plan.window} in flight", f"{plan.windowed / seconds:,.0f}"))
    return rows


async def batched(adapter: EvmAdapter, sends: Sends, plan: Plan) -> tuple[list[float], int, int]:
    """Seconds per batch of ``batch_size`` (submit_many until all mined); the block range."""
    first = await adapter.latest_height() + 1
    times = []
    for _ in range(plan.batches):
        actions = [sends.next() for _ in range(plan.batch_size)]
        start = time.perf_counter()
        results = await adapter.submit_many(actions)
        hashes = [r for r in results if isinstance(r, bytes)]
        if len(hashes) != len(actions):
            raise SystemExit(f"a batch send was refused: {results[0]}")
        receipts = await adapter.wait_receipts(hashes)
        times.append(time.perf_counter() - start)
        assert all(r.success for r in receipts)
    return times, first, await adapter.latest_height()


async def proofs(adapter: EvmAdapter, sends: Sends, plan: Plan) -> list[tuple[str, str]]:
    """Per-event proof build + verify in one block of ``block_txs`` transactions."""
    rpc = adapter.reader
    await rpc.call("evm_setAutomine", False)
    try:
        sent = await adapter.submit_many([sends.next(gas=200_000) for _ in range(plan.block_txs)])
        await rpc.call("evm_mine")
    finally:
        await rpc.call("evm_setAutomine", True)
    receipts = await adapter.wait_receipts([h for h in sent if isinstance(h, bytes)])
    height = receipts[0].height
    assert height is not None
    assert all(r.height == height for r in receipts)
    events = await adapter.events(height, height)
    assert len(events) == plan.block_txs

    client, state = adapter.light_client(), adapter.settings.client_state()
    parent = await adapter.header(height - 1)
    trusted = client.consensus_state_from_checkpoint(
        adapter.chain_id, decode_header(parent.encoded), parent.hash
    )
    header = await adapter.header(height)
    consensus = client.verify_header(state, trusted, header, header.time + 1)

    async def adapter_batch() -> None:
        adapter._proof_cache.clear()
        for proof in await adapter.prove_many(events):
            client.verify_log(consensus, proof)

    async def adapter_one_by_one() -> None:
        adapter._proof_cache.clear()
        for event in events:
            client.verify_log(consensus, await adapter.prove(event))

    rpc_receipts = await rpc.call("eth_getBlockReceipts", hex(height))
    decoded = [receipt_from_rpc(r) for r in rpc_receipts]

    def naive() -> None:
        for event in events:
            tx_index = event.position[0]
            root, nodes = prove_receipt(decoded, tx_index)
            verify_receipt_proof(consensus.receipts_root, tx_index, nodes)
            assert root == consensus.receipts_root

    n = len(events)
    batch_ms = statistics.median([await timed(adapter_batch) for _ in range(5)]) * 1e3 / n
    single_ms = statistics.median([await timed(adapter_one_by_one) for _ in range(3)]) * 1e3 / n
    start = time.perf_counter()
    naive()
    naive_ms = (time.perf_counter() - start) * 1e3 / n
    return [
        (f"proof build + verify per event, {n}-tx block, `prove_many`", f"{batch_ms:.2f} ms"),
        (f"proof build + verify per event, {n}-tx block, `prove` each", f"{single_ms:.2f} ms"),
        (
            f"proof build + verify per event, {n}-tx block, trie rebuilt per event",
            f"{naive_ms:.2f} ms",
        ),
    ]


async def scanning(adapter: EvmAdapter, first: int, last: int) -> list[tuple[str, str]]:
    events: list[ChainEvent] = []

    async def read() -> None:
        events[:] = await adapter.events(first, last)

    seconds = statistics.median([await timed(read) for _ in range(3)])
    count = len(events)

    async def scan() -> None:
        scanner = adapter.scanner(first)
        found = 0
        while scanner.next_height <= last:
            batch = await scanner.scan(last)
            found += sum(1 for log in batch.logs if adapter.decode_event(log) is not None)
        assert found == count

    scan_seconds = statistics.median([await timed(scan) for _ in range(3)])
    blocks = last - first + 1
    return [
        (
            f"events/s, `events()` over {count:,} events ({blocks:,} blocks)",
            f"{count / seconds:,.0f}",
        ),
        ("events/s, `LogScanner` over the same range", f"{count / scan_seconds:,.0f}"),
    ]


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for dist in ("eth-account", "eth-abi", "coincurve", "httpx", "trie"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    return f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}; " + ", ".join(
        versions
    )


async def run(node: AnvilNode, plan: Plan) -> list[tuple[str, str]]:
    async with JsonRpcClient(node.url) as rpc:
        admin = node.accounts[0].address
        bridge = await deploy(rpc, "Bridge", LOCAL_CHAIN, admin, [admin], 1, sender=admin)
        htlc = await deploy(rpc, "HashedTimelock", sender=admin)
        # A later timestamp for each block, as Ethereum requires (see the light-client docs).
        await rpc.call("anvil_setBlockTimestampInterval", 1)
        block = await rpc.call("eth_getBlockByNumber", "latest", False)
    settings = EvmChainSettings(
        chain=LOCAL_CHAIN,
        rpc_url=node.url,
        evm_chain_id=CHAIN_ID,
        bridge_address=bridge,
        htlc_address=htlc,
        confirmations=0,
        insecure_plaintext_key=True,
        signer_key=node.accounts[1].private_key,
        receipt_poll_interval=0.005,
        fee_quote_ttl=1.0,
    )
    sends = Sends(deadline=int(block["timestamp"], 16) + 10**6)
    async with EvmAdapter(settings) as adapter:
        rows = await throughput(adapter, sends, plan)
        times, first, last = await batched(adapter, sends, plan)
        per_second = [plan.batch_size / t for t in times]
        rows.append(
            (
                f"tx/s, JSON-RPC batch of {plan.batch_size:,} signed txs "
                f"(median of {plan.batches}; min–max)",
                f"{statistics.median(per_second):,.0f} ({min(per_second):,.0f}–"
                f"{max(per_second):,.0f})",
            )
        )
        rows += await proofs(adapter, sends, plan)
        rows += await scanning(adapter, first, last)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer transactions and batches")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(f"# EVM adapter benchmark ({'quick' if args.quick else 'full'}) against anvil")
    print(f"# {machine()}")
    with AnvilNode(AnvilConfig(chain_id=CHAIN_ID, accounts=3)) as node:
        rows = asyncio.run(run(node, plan))
    print()
    print("| measurement | result |")
    print("|---|---:|")
    for label, value in rows:
        print(f"| {label} | {value} |")
    print(f"\n# total {time.perf_counter() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()

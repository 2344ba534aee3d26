"""Atomic swaps end to end: swaps completed per minute with 50 in flight, and the watchtower's
reaction, the time from the leg-2 claim to the leg-1 claim.

    .venv/bin/python bench/swaps.py                         # 100 swaps, 50 concurrent
    .venv/bin/python bench/swaps.py --swaps 50 --concurrency 50 --block-time 0.5

It starts the dev stack (``devtools.devstack``: devnet, anvil with
``HashedTimelock``, the hub with its relayer and watchtower, the notaries) on
free ports in a temporary directory, then runs ``--swaps`` swaps keeping
``--concurrency`` in flight. Each swap, as its two parties would:

1. alice proposes it (``POST /v1/swaps``, timelocks computed by the hub);
2. alice locks 1,000 upj on the devnet for bob (leg 1);
3. bob waits until the hub reports leg 1 locked, then locks 5,000 TT on anvil for alice (leg 2);
4. alice claims leg 2 on anvil herself, revealing the preimage: the clock starts when its
   receipt is seen;
5. the hub's watchtower, which bob delegated leg 1's claim to, sees the preimage and claims
   leg 1 on the devnet for bob: the clock stops when the devnet has that claim committed.

"Completed per minute" counts swaps whose hub state is ``completed`` over the wall time of
the run. Every party action is a real signed transaction; alice and bob each use one
account per chain, so their transactions are serialized by nonce (as one wallet would be).
Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devtools.devstack import DEVNET_CHAIN, EVM_CHAIN, DevStack, DevStackOptions  # noqa: E402
from devtools.swap_party import DevnetParty, EvmParty  # noqa: E402 - the root is on the path now
from tests.net import free_port  # noqa: E402

LEG1_AMOUNT, LEG2_AMOUNT = 1_000, 5_000
POLL = 0.1


class Run:
    """The parties, the hub client and what was measured."""

    def __init__(self, info: dict[str, Any], timeout: float) -> None:
        devnet, anvil = info["chains"][DEVNET_CHAIN], info["chains"][EVM_CHAIN]
        alice, bob = info["accounts"]["alice"], info["accounts"]["bob"]
        self.alice_pj = DevnetParty(
            devnet["url"], DEVNET_CHAIN, bytes.fromhex(alice[DEVNET_CHAIN]["key"])
        )
        self.bob_pj_address = bob[DEVNET_CHAIN]["address"]
        self.bob_evm = EvmParty(
            anvil["rpc_url"], anvil["evm_chain_id"], anvil["htlc"], bob[EVM_CHAIN]["key"]
        )
        self.alice_evm = EvmParty(
            anvil["rpc_url"], anvil["evm_chain_id"], anvil["htlc"], alice[EVM_CHAIN]["key"]
        )
        self.alice_evm_address = alice[EVM_CHAIN]["address"]
        self.token = anvil["test_token"].lower()
        self.devnet = httpx.AsyncClient(base_url=devnet["url"], timeout=10)
        self.hub = httpx.AsyncClient(
            base_url=info["api"], headers={"X-API-Key": info["api_key"]}, timeout=30
        )
        self.timeout = timeout
        self.reaction: list[float] = []
        self.durations: list[float] = []
        self.failures: list[str] = []

    async def aclose(self) -> None:
        for party in (self.alice_pj, self.bob_evm, self.alice_evm):
            await party.aclose()
        await self.devnet.aclose()
        await self.hub.aclose()

    async def swap_state(self, swap_id: str) -> dict[str, Any]:
        answer = await self.hub.get(f"/v1/swaps/{swap_id}")
        answer.raise_for_status()
        return answer.json()  # type: ignore[no-any-return]

    async def until(self, swap_id: str, done: Any, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            swap = await self.swap_state(swap_id)
            if done(swap):
                return swap
            if swap["state"] in ("refunded", "unbalanced", "rejected"):
                raise RuntimeError(f"{swap_id} ended {swap['state']} waiting for {what}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{swap_id}: no {what} within {self.timeout:.0f} s")
            await asyncio.sleep(POLL)

    async def one(self) -> None:
        started = time.monotonic()
        preimage = secrets.token_bytes(32)
        hashlock = hashlib.sha256(preimage).digest()
        body = {
            "leg1": {
                "chain_id": DEVNET_CHAIN,
                "sender": self.alice_pj.address,
                "receiver": self.bob_pj_address,
                "asset": "upj",
                "amount": str(LEG1_AMOUNT),
            },
            "leg2": {
                "chain_id": EVM_CHAIN,
                "sender": self.bob_evm.address,
                "receiver": self.alice_evm_address.lower(),
                "asset": self.token,
                "amount": str(LEG2_AMOUNT),
            },
            "hashlock": "0x" + hashlock.hex(),
            "delegate": {"claim_leg1": True, "claim_leg2": False},
        }
        created = await self.hub.post(
            "/v1/swaps", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        created.raise_for_status()
        swap = created.json()
        leg1, leg2 = swap["legs"]
        await self.alice_pj.lock(leg1["receiver"], "upj", LEG1_AMOUNT, hashlock, leg1["timelock"])
        await self.until(swap["id"], lambda s: s["legs"][0]["state"] == "locked", "leg 1 lock")
        _, lock_id = await self.bob_evm.lock(
            leg2["receiver"], self.token, LEG2_AMOUNT, hashlock, leg2["timelock"]
        )
        await self.alice_evm.claim(lock_id, preimage)
        claimed_at = time.monotonic()
        done = await self.until(
            swap["id"], lambda s: s["legs"][0]["claim_tx"] is not None, "leg 1 claim"
        )
        await self.committed(done["legs"][0]["claim_tx"])
        self.reaction.append(time.monotonic() - claimed_at)
        await self.until(swap["id"], lambda s: s["state"] == "completed", "completion")
        self.durations.append(time.monotonic() - started)

    async def committed(self, tx_hash: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            found = await self.devnet.get(f"/v1/txs/{tx_hash}")
            if found.status_code == 200 and found.json()["status"] == "committed":
                return
            await asyncio.sleep(POLL)
        raise RuntimeError(f"leg 1 claim {tx_hash} not committed")


async def drive(info: dict[str, Any], swaps: int, concurrency: int, timeout: float) -> float:
    run = Run(info, timeout)
    try:
        await run.bob_evm.approve(run.token, LEG2_AMOUNT * swaps)
        gate = asyncio.Semaphore(concurrency)

        async def guarded() -> None:
            async with gate:
                try:
                    await run.one()
                except Exception as err:  # a bench reports failures, it does not stop
                    run.failures.append(f"{type(err).__name__}: {err}")

        started = time.monotonic()
        await asyncio.gather(*(guarded() for _ in range(swaps)))
        elapsed = time.monotonic() - started
    finally:
        await run.aclose()
    report(run, swaps, concurrency, elapsed, info)
    return elapsed


def report(run: Run, swaps: int, concurrency: int, elapsed: float, info: dict[str, Any]) -> None:
    done = len(run.durations)

    def q(values: list[float], p: float) -> str:
        if not values:
            return "-"
        ordered = sorted(values)
        return f"{ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]:.2f} s"

    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(
        f"chains: devnet blocks {info['chains'][DEVNET_CHAIN]['block_time']}, "
        f"anvil blocks {info['chains'][EVM_CHAIN]['block_time']}"
    )
    print(
        f"swaps: {swaps} started, {done} completed, {len(run.failures)} failed, "
        f"{concurrency} in flight"
    )
    print(f"wall time: {elapsed:.1f} s -> {done / elapsed * 60:.1f} swaps completed per minute")
    print(
        f"one swap (propose -> completed): p50 {q(run.durations, 0.5)}, "
        f"p90 {q(run.durations, 0.9)}, max {q(run.durations, 1.0)}"
    )
    mean = f"{statistics.fmean(run.reaction):.2f} s" if run.reaction else "-"
    print(
        f"leg-2 claim -> leg-1 claim committed: p50 {q(run.reaction, 0.5)}, "
        f"p90 {q(run.reaction, 0.9)}, max {q(run.reaction, 1.0)}, mean {mean}"
    )
    for failure in run.failures[:5]:
        print(f"  failure: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swaps", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--block-time", type=float, default=1.0, help="both chains, seconds")
    parser.add_argument("--timeout", type=float, default=300.0, help="per wait, seconds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pjgw-bench-swaps-") as tmp:
        ports = set()
        while len(ports) < 3:
            ports.add(free_port())
        api, devnet, anvil = sorted(ports)
        options = DevStackOptions(
            data_dir=Path(tmp) / "dev",
            api_port=api,
            devnet_port=devnet,
            anvil_port=anvil,
            devnet_block_time=f"{args.block_time:g}s",
            anvil_block_time=args.block_time,
        )
        stack = DevStack(options)
        try:
            print("starting the dev stack (devnet, anvil, hub, notaries)...", flush=True)
            info = stack.up()
            asyncio.run(drive(info, args.swaps, args.concurrency, args.timeout))
        finally:
            stack.down()


if __name__ == "__main__":
    main()

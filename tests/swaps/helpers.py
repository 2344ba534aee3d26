"""The swap tests' hub: the watchtower over a devnet and anvil, one clock for all three.

``Clock`` moves the devnet's block clock, the hub's clock and anvil's
(``evm_increaseTime``) together; ``Hub`` holds the store, the two adapters
and a ``SwapWatchtower`` as one relayer process does (``restart()`` builds
new ones on the same database). The fixtures are in ``tests/swaps/conftest.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.ids import ChainId
from core.records import ChainRecord
from core.states import SwapState
from core.swaps import SwapRecord
from proofs.htlc.timing import SwapPolicy
from relayer.swaps import SwapWatchSettings, SwapWatchtower
from tests.evm.chain import Receipt
from tests.fixtures.anvil import CHAIN_ID, LOCAL_CHAIN, Env
from tests.fixtures.devnet_chain import CHAIN as DEVNET_CHAIN
from tests.fixtures.devnet_chain import Chain as Devnet

T = TypeVar("T")
POLICY = SwapPolicy(
    reaction_seconds=5, margin_seconds=10, claim_window_seconds=30, max_timelock_seconds=3600
)
HUB_ACCOUNT = 3  # the devnet account that signs the hub's claims and refunds
ALICE, BOB = 0, 1  # devnet accounts of the parties
A_CHAIN, B_CHAIN = ChainId(DEVNET_CHAIN), ChainId(LOCAL_CHAIN)


class Clock:
    """Wall time plus an offset shared by the hub, the devnet and anvil."""

    def __init__(self, deployment: Env) -> None:
        self.env = deployment
        deployment.chain.call("evm_mine")
        self.offset = max(0.0, deployment.chain.timestamp() - time.time() + 1.0)

    def now(self) -> float:
        return time.time() + self.offset

    def ms(self) -> int:
        return int(self.now() * 1000)

    def advance(self, seconds: int) -> None:
        self.offset += seconds
        self.env.chain.increase_time(seconds)


@dataclass
class Hub:
    """The hub's parts, as one relayer process holds them."""

    db_url: str
    env: Env
    devnet: Devnet
    clock: Clock
    anvil: Any
    store: Any = None
    adapters: dict[ChainId, Any] = field(default_factory=dict)
    tower: SwapWatchtower | None = None
    loop: asyncio.AbstractEventLoop | None = None

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run hub work on this process's event loop (the tests themselves stay synchronous)."""
        assert self.loop is not None
        return self.loop.run_until_complete(coroutine)

    def start(self) -> SwapWatchtower:
        from devnet import keys
        from devnet.api import create_app
        from gateway.store import SqlStore

        self.loop = asyncio.new_event_loop()
        self.store = SqlStore(self.db_url)
        self.store.migrate()
        self.store.upsert_chain(ChainRecord(A_CHAIN, "pujiang"))
        self.store.upsert_chain(ChainRecord(B_CHAIN, "evm"))
        seed = bytes(keys.account_key(self.devnet.node.genesis.seed, HUB_ACCOUNT))
        pujiang = PujiangAdapter(
            PujiangSettings(url="http://devnet.asgi", chain_id=DEVNET_CHAIN,
                            insecure_plaintext_key=True, relayer_key=seed.hex(),
                            retry_attempts=1, block_time=1.0),
            transport=httpx.ASGITransport(app=create_app(self.devnet.node)),
        )  # fmt: skip
        key = next(a.private_key for a in self.anvil.accounts if a.address == self.env.relayer)
        evm = EvmAdapter(
            EvmChainSettings(
                chain=LOCAL_CHAIN, rpc_url=self.env.chain.rpc.url, evm_chain_id=CHAIN_ID,
                htlc_address=self.env.htlc.address, confirmations=0, block_time=1.0,
                insecure_plaintext_key=True, signer_key=key, read_retries=1, retry_backoff=0.05,
            )
        )  # fmt: skip
        self.adapters = {A_CHAIN: pujiang, B_CHAIN: evm}
        self.tower = SwapWatchtower(
            self.store,
            self.adapters,
            worker_id=f"relayer-{id(self)}-{time.monotonic_ns()}",
            clock=self.clock.now,
            policy=POLICY,
            settings=SwapWatchSettings(lookback_blocks=64, recheck_seconds=0.0),
        )
        return self.tower

    def stop(self) -> None:
        if self.loop is not None:
            for adapter in self.adapters.values():
                self.run(adapter.aclose())
            self.loop.close()
            self.loop = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def restart(self) -> SwapWatchtower:
        """A new process: the old one's objects are dropped, the database is kept."""
        self.stop()
        return self.start()

    def step(self) -> int:
        """One watchtower pass."""
        assert self.tower is not None
        return self.run(self.tower.run_once())

    def drive(self, swap_id: str, until: SwapState, *, passes: int = 12) -> SwapRecord:
        """Run watchtower passes (a devnet block after each) until the swap is in ``until``."""
        for _ in range(passes):
            self.step()
            self.devnet.node.produce_block()
            swap = self.store.swap(swap_id)
            if swap.state is until:
                return swap
        raise AssertionError(f"swap is {self.store.swap(swap_id).state}, not {until}")


def evm_fee(deployment: Env, receipt: Receipt) -> int:
    """What a transaction cost its sender in wei (gas used × effective gas price)."""
    raw = deployment.chain.call("eth_getTransactionReceipt", receipt.tx_hash)
    return int(raw["gasUsed"], 16) * int(raw["effectiveGasPrice"], 16)

"""The timeout tests' world: one clock, anvil with a bridge, real notaries.

``TestClock`` is the one clock of a test module; ``Anvil`` the bridge on the
folder's anvil with a JSON-RPC of its own (``travel`` moves anvil's clock);
``adapters_for`` the adapters of both chains; ``Notaries`` three REAL
``notary.Notary`` objects fed by ``StoreWorkSource``. The fixtures that build
them are in ``tests/timeouts/conftest.py``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.evm.adapter import EvmAdapter
from adapters.evm.node import AnvilNode
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.errors import PjgwError
from core.ids import ChainId
from notary import Notary, Route
from notary.work import StoreWorkSource
from tests.evm.chain import Chain, Contract
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import InProcessDevnet, account_seed
from tests.fixtures.relay import NOTARIES, NOTARY_KEYS, THRESHOLD

OUT = "devnet-to-anvil"
IN = "anvil-to-devnet"
ROUTES = {OUT: Route(OUT, DEVNET, LOCAL_CHAIN), IN: Route(IN, LOCAL_CHAIN, DEVNET)}


class TestClock:
    """Wall time plus an offset that only grows (seconds; ``ms()`` for the devnet)."""

    __test__ = False

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def ms(self) -> int:
        return int(self() * 1000)

    def reach(self, seconds: float) -> None:
        """Move the clock forward to at least ``seconds`` (never back)."""
        ahead = seconds - self()
        if ahead > 0:
            self.offset += ahead


@dataclass
class Anvil:
    node: AnvilNode
    chain: Chain
    bridge: Contract
    admin: str
    alice: str
    relayer_key: str

    def rpc(self, method: str, *params: Any) -> Any:
        """A blocking JSON-RPC call of its own (usable inside a test's event loop)."""
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        answer = httpx.post(self.node.url, json=body, timeout=10.0).json()
        if "error" in answer:
            raise AssertionError(f"{method}: {answer['error']}")
        return answer["result"]

    def timestamp(self) -> int:
        return int(self.rpc("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def travel(self, clock: TestClock, to: int) -> None:
        """Mine a block stamped ``to`` (or one second after the last) and follow with ``clock``."""
        stamp = max(to, self.timestamp() + 1)
        self.rpc("evm_setNextBlockTimestamp", stamp)
        self.rpc("evm_mine")
        clock.reach(stamp)

    def mine(self, blocks: int) -> None:
        for _ in range(blocks):
            self.rpc("evm_mine")


def evm_settings(env: Anvil, *, signer: bool) -> EvmChainSettings:
    return EvmChainSettings(
        chain=LOCAL_CHAIN,
        rpc_url=env.node.url,
        evm_chain_id=EVM_CHAIN_ID,
        bridge_address=env.bridge.address,
        confirmations=0,
        insecure_plaintext_key=True,
        signer_key=env.relayer_key if signer else None,
        read_retries=1,
        retry_backoff=0.05,
        committee_threshold=THRESHOLD,
        committee=NOTARIES,
    )


def pujiang_settings(devnet: InProcessDevnet, *, signer: bool) -> PujiangSettings:
    return PujiangSettings(
        url=devnet.url,
        chain_id=DEVNET,
        insecure_plaintext_key=True,
        relayer_key=account_seed(1).hex() if signer else None,
        retry_attempts=1,
        committee_threshold=THRESHOLD,
        committee=NOTARIES,
    )


def adapters_for(devnet: InProcessDevnet, env: Anvil, *, signer: bool) -> dict[ChainId, Any]:
    return {
        ChainId(DEVNET): PujiangAdapter(
            pujiang_settings(devnet, signer=signer), transport=devnet.transport
        ),
        ChainId(LOCAL_CHAIN): EvmAdapter(evm_settings(env, signer=signer)),
    }


@dataclass
class Notaries:
    """Three real notaries on the store's work, each with its own adapters and data dir."""

    members: list[tuple[Notary, StoreWorkSource]]
    refusals: list[tuple[str, str, PjgwError]] = field(default_factory=list)

    @classmethod
    def start(
        cls, store: Any, devnet: InProcessDevnet, env: Anvil, data: Path, clock: TestClock
    ) -> Notaries:
        members = []
        for i, key in enumerate(NOTARY_KEYS):
            notary = Notary(
                key,
                {str(k): a for k, a in adapters_for(devnet, env, signer=False).items()},
                ROUTES,
                data / f"notary-{i}",
                clock=clock,
            )
            members.append((notary, StoreWorkSource(store, notary.address, clock=clock)))
        return cls(members)

    async def round(self, kinds: frozenset[str]) -> int:
        """One round of every notary over the store's work of ``kinds``; attestations posted.

        Batches (issue #15) are signed when their kind's name is in ``kinds``: ``delivery``,
        ``nondelivery``, ``error_ack``."""
        posted = 0
        for notary, source in self.members:
            for item in await source.fetch(50):
                if item.kind not in kinds:
                    continue
                try:
                    attestation = await notary.attest(item)
                except PjgwError as err:
                    self.refusals.append((item.transfer_id, item.kind, err))
                    continue
                await source.submit(attestation)
                posted += 1
            for batch in await source.fetch_batches(4):  # batch mode (issue #15)
                if batch.kind.name.lower() not in kinds:
                    continue
                try:
                    signed = await notary.attest_batch(batch)
                except PjgwError as err:
                    self.refusals.append((batch.batch_id, "batch", err))
                    continue
                await source.submit_batch(signed)
                posted += 1
        return posted

    async def close(self) -> None:
        for notary, _ in self.members:
            for adapter in notary.adapters.values():
                await adapter.aclose()
            notary.close()

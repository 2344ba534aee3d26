"""Fixtures for the devnet node: an in-process node on a fake clock, its dev keys, helpers.

Every node here is the real ``DevnetNode`` on a temporary data directory
(SQLite included); only time is fake, so timelocks and timeouts are crossed
by ``clock.advance(ms)`` instead of sleeping. Blocks are made on demand.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from coincurve import PrivateKey

from devnet import keys
from devnet.config import NodeConfig
from devnet.node import DevnetNode
from proofs.pujiang import codec

SEED = hashlib.sha256(b"pujiang devnet tests").digest()
CHAIN = "pj-test"
OTHER = "evm-1"
START_MS = 1_800_000_000_000


class FakeClock:
    """Unix milliseconds that move only when a test says so."""

    def __init__(self, now: int = START_MS) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@dataclass
class Chain:
    """A node with its dev accounts, notaries, and a nonce book for signing."""

    node: DevnetNode
    clock: FakeClock
    accounts: list[keys.Account]
    notaries: list[PrivateKey]
    nonces: dict[bytes, int] = field(default_factory=dict)

    @property
    def chain_id(self) -> str:
        return self.node.genesis.chain_id

    @property
    def hash_fn(self):  # type: ignore[no-untyped-def]
        return self.node.hash_fn

    def sign(self, who: int, kind: str, args: codec.RawItem, *, nonce: int | None = None) -> bytes:
        """A transaction of account ``who`` at its next nonce (or the one given)."""
        account = self.accounts[who]
        if nonce is None:
            nonce = self.nonces.get(account.address, 0)
            self.nonces[account.address] = nonce + 1
        return keys.sign_tx(account.key, self.chain_id, nonce, kind, args)

    def run(self, *txs: bytes) -> list[dict[str, object]]:
        """Put exactly ``txs`` in the next block; their receipts."""
        self.node.produce_block(list(txs))
        return [self.node.query_tx(self.hash_fn(tx)) for tx in txs]

    def run1(self, who: int, kind: str, args: codec.RawItem) -> dict[str, object]:
        return self.run(self.sign(who, kind, args))[0]

    def address(self, who: int) -> bytes:
        return self.accounts[who].address

    def balance(self, who: int | bytes, denom: str) -> int:
        address = who if isinstance(who, bytes) else self.address(who)
        return self.node.balance(address, denom)

    def certificate(self, digest: bytes, signers: list[int] | None = None) -> codec.Certificate:
        chosen = [self.notaries[i] for i in (signers if signers is not None else [0, 1])]
        return keys.sign_certificate(chosen, digest)


def make_chain(data_dir: Path, clock: FakeClock | None = None, **options: object) -> Chain:
    clock = clock or FakeClock()
    settings: dict[str, object] = {
        "data_dir": data_dir,
        "chain_id": CHAIN,
        "block_time": None,
        "seed": SEED,
        **options,
    }
    config = NodeConfig(**settings)  # type: ignore[arg-type]
    node = DevnetNode(config, clock=clock)
    genesis = node.genesis
    accounts = [
        keys.Account(keys.account_key(genesis.seed, i), node.hash_fn)
        for i in range(len(genesis.accounts))
    ]
    notaries = [keys.notary_key(genesis.seed, i) for i in range(len(genesis.notaries))]
    chain = Chain(node, clock, accounts, notaries)
    for account in accounts:
        chain.nonces[account.address] = node.committed_nonce(account.address)
    return chain


@pytest.fixture
def chain_factory(tmp_path: Path) -> Iterator[Callable[..., Chain]]:
    made: list[Chain] = []
    counter = iter(range(1000))

    def factory(**options: object) -> Chain:
        data_dir = options.pop("data_dir", None) or tmp_path / f"node{next(counter)}"
        chain = make_chain(data_dir, **options)  # type: ignore[arg-type]
        made.append(chain)
        return chain

    yield factory
    for chain in made:
        chain.node.close()


@pytest.fixture
def chain(chain_factory: Callable[..., Chain]) -> Chain:
    return chain_factory()

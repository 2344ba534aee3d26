"""Fixtures: one real anvil node per session, the contracts deployed once, a snapshot per test.

The node is started through ``adapters.evm.node`` on a free loopback port and
stopped by its own pid when the session ends. The compiled artifacts must
exist (``make test`` builds them first); if they are missing the deployment
fixture fails with the command to run: a contract suite that skipped would
pass while proving nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.artifacts import load_artifact
from adapters.evm.certificate import BridgeDomain, Packet, certify
from adapters.evm.node import AnvilConfig, AnvilNode
from adapters.evm.settings import EvmChainSettings
from core.errors import ConfigError
from tests.evm.chain import Chain, Contract

CHAIN_ID = 31337
LOCAL_CHAIN = "anvil-31337"
REMOTE_CHAIN = "pujiang-main"
THRESHOLD = 3


@dataclass(frozen=True)
class Notary:
    address: str
    key: bytes


def make_committee(label: str, size: int) -> list[Notary]:
    """Deterministic notary keys, ordered by address as the bridge requires."""
    keys = [keccak(f"{label}-{i}".encode()) for i in range(size)]
    notaries = [Notary(Account.from_key(k).address, k) for k in keys]
    return sorted(notaries, key=lambda n: int(n.address, 16))


@dataclass
class Env:
    """The deployed contracts, the accounts and the committee, for one test."""

    chain: Chain
    bridge: Contract
    htlc: Contract
    token: Contract
    receiver: Contract
    admin: str
    alice: str
    bob: str
    relayer: str
    committee: list[Notary]

    @property
    def domain(self) -> BridgeDomain:
        return BridgeDomain(CHAIN_ID, self.bridge.address)

    def certify(self, digest: bytes, notaries: list[Notary] | None = None) -> list[bytes]:
        signers = self.committee[:THRESHOLD] if notaries is None else notaries
        return certify([n.key for n in signers], digest)

    def inbound(self, sequence: int = 1, **changes: object) -> Packet:
        """An asset packet from the remote chain to alice (a new voucher), changed as asked."""
        packet = Packet(
            sequence=sequence,
            source_chain=REMOTE_CHAIN,
            dest_chain=LOCAL_CHAIN,
            sender=b"pj1-sender-on-pujiang",
            receiver=bytes.fromhex(self.alice[2:]),
            denom="uusd",
            amount=1_000,
            payload=b"",
            timeout_height=0,
            timeout_timestamp=self.chain.timestamp() + 3600,
        )
        return dataclasses.replace(packet, **changes)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    node = AnvilNode(AnvilConfig(chain_id=CHAIN_ID, accounts=5))
    with node:
        yield node
    assert not node.is_running()


@pytest.fixture(scope="session")
def chain(anvil: AnvilNode) -> Iterator[Chain]:
    chain = Chain(anvil.url)
    yield chain
    chain.close()


@pytest.fixture(scope="session")
def deployed(anvil: AnvilNode, chain: Chain) -> Env:
    admin, alice, bob, relayer = (a.address for a in anvil.accounts[:4])
    committee = make_committee("notary", 4)
    try:
        bridge = chain.deploy(
            "Bridge", LOCAL_CHAIN, admin, [n.address for n in committee], THRESHOLD, sender=admin
        )
        htlc = chain.deploy("HashedTimelock", sender=admin)
        token = chain.deploy("TestToken", "Test Token", "TT", sender=admin)
        receiver = chain.deploy("ExampleMessageReceiver", bridge.address, sender=admin)
        load_artifact("WrappedToken")  # vouchers are deployed by the bridge: fail early here
    except ConfigError as err:
        pytest.fail(str(err), pytrace=False)
    for holder in (alice, bob):
        token.transact("mint", holder, 10**24, sender=admin)
    return Env(chain, bridge, htlc, token, receiver, admin, alice, bob, relayer, committee)


@pytest.fixture
def env(deployed: Env) -> Iterator[Env]:
    """The session's deployment, rolled back after the test (state and clock)."""
    snapshot = deployed.chain.snapshot()
    yield deployed
    deployed.chain.revert(snapshot)


# --- the EVM adapter's fixtures (tests/evm/test_adapter_*.py) ---------------------------------


@pytest.fixture
def strict_timestamps(env: Env) -> Iterator[None]:
    """Stamp each new block one second after its parent, as Ethereum's rule requires.

    anvil's instant mining gives blocks mined within one second the same
    timestamp, which the EVM light client rejects (``timestamp > parent``);
    the interval is removed before ``env`` rolls the chain back.
    """
    env.chain.call("anvil_setBlockTimestampInterval", 1)
    yield
    env.chain.call("anvil_removeBlockTimestampInterval")


@pytest.fixture
def evm_settings(
    anvil: AnvilNode, env: Env, strict_timestamps: None
) -> Callable[..., EvmChainSettings]:
    """A factory of adapter settings for the session's anvil; the relayer account signs."""
    relayer_key = next(a.private_key for a in anvil.accounts if a.address == env.relayer)

    def make(**changes: object) -> EvmChainSettings:
        values: dict[str, object] = {
            "chain": LOCAL_CHAIN,
            "rpc_url": anvil.url,
            "evm_chain_id": CHAIN_ID,
            "bridge_address": env.bridge.address,
            "htlc_address": env.htlc.address,
            "confirmations": 0,
            "signer_key": relayer_key,
            "read_retries": 1,
            "retry_backoff": 0.05,
            "receipt_poll_interval": 0.01,
            "receipt_timeout": 30.0,
        }
        return EvmChainSettings(**(values | changes))

    return make

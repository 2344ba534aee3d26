"""The bugs the fault tests found, pinned in seconds on an in-process devnet.

* A client that signs several transactions of one account and hands them to
  the API at once: the relayer submits them in parallel, the devnet refuses a
  nonce ahead of the account's (``wrong-nonce``), and the relayer parked the
  transfer for ``config_backoff`` (10 minutes) as if an operator had to act.
  ``PujiangAdapter.submit`` now raises the retryable ``NonceAhead`` for a
  nonce at or above the account's committed one (``test_faults_two_relayers``).
* A notary handed work newest first verified each older item by walking the
  parent-hash links down from its checkpoint, refetching the same headers for
  every item (175 header fetches per attestation at 200 transfers) and
  refusing items more than ``max_backfill`` headers below it. It now walks from
  the nearest header it verified before (``notary.verify``).
* A delivery refused by anvil with ``nonce too low`` (the EVM adapter's nonce
  counter behind the chain: a restarted relayer, a send whose answer a proxy
  cut, another sender on the account) was a plain ``ChainRejected``, and the
  relayer parked the transfer for an operator, although the nonce manager
  re-reads the chain's nonce for the next send. It is now the retryable
  ``NonceTaken`` (``test_faults_relayer_crash``, ``test_faults_rpc_proxy``).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from adapters.follower import FilePersistence, FollowerSettings, LightClientFollower
from adapters.pujiang import PujiangAdapter, PujiangSettings
from adapters.pujiang.actions import TxSigner, build_signed_tx, raw_tx_action
from adapters.pujiang.adapter import NonceAhead
from core.errors import ChainRejected
from core.ids import ChainId
from core.types import ChainAction
from notary.verify import ChainVerifier
from relayer.retry import Disposition, classify
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import InProcessDevnet, account_seed
from tests.fixtures.relay import Anvil

HEIGHTS = 40
GUARD_LOOKS = 1500  # 30 s of looks at 20 ms: a bound on a wait, never a timing


class CountingTransport(httpx.AsyncBaseTransport):
    """The devnet's ASGI transport, counting the header reads (``GET /v1/blocks/N``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.headers_read = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.startswith("/v1/blocks/"):
            self.headers_read += 1
        return await self.inner.handle_async_request(request)


def _adapter(devnet: InProcessDevnet, transport: httpx.AsyncBaseTransport) -> PujiangAdapter:
    settings = PujiangSettings(url=devnet.url, chain_id=DEVNET_CHAIN, retry_attempts=1)
    return PujiangAdapter(settings, transport=transport)


def _transfer_tx(signer: TxSigner, nonce: int, amount: int = 1) -> bytes:
    args = [b"anvil-31337", b"\x01" * 20, b"upj", amount, 0, 2**62]
    return build_signed_tx(signer, DEVNET_CHAIN, nonce, "bridge_send", args)


def test_a_transaction_whose_nonce_is_ahead_of_its_account_is_refused_as_retryable(
    devnet_node: InProcessDevnet,
) -> None:
    signer = TxSigner(account_seed(3))

    async def scenario() -> tuple[BaseException, BaseException]:
        adapter = _adapter(devnet_node, devnet_node.transport)
        try:
            first = await adapter.account_nonce(signer.address())
            later = raw_tx_action(_transfer_tx(signer, first + 1))
            with pytest.raises(NonceAhead) as ahead:
                await adapter.submit(later)
            await adapter.submit(raw_tx_action(_transfer_tx(signer, first)))
            await adapter.submit(later)  # the same bytes again, now in order
            devnet_node.node.produce_block()
            used = raw_tx_action(_transfer_tx(signer, first, amount=2))  # a nonce spent
            with pytest.raises(ChainRejected) as behind:
                await adapter.submit(used)
            return ahead.value, behind.value
        finally:
            await adapter.aclose()

    ahead, behind = asyncio.run(scenario())
    assert classify(ahead) is Disposition.RETRY
    assert not isinstance(behind, NonceAhead)
    assert classify(behind) is Disposition.WAIT_OPERATOR


def test_concurrent_sends_of_one_adapter_are_posted_in_nonce_order(
    devnet_node: InProcessDevnet,
) -> None:
    """Found by the anvil -> devnet benchmark (issue #15): the relayer steps batches
    concurrently, two sends of the relayer account raced, n + 1 reached the node before n
    and was refused (``nonce ahead``) again and again, until the failure-rate breaker paused
    the route. One adapter now takes a nonce and posts it before the next send."""
    signer = TxSigner(account_seed(1))
    sends = 12

    async def scenario() -> tuple[int, list[bytes]]:
        settings = PujiangSettings(
            url=devnet_node.url,
            chain_id=DEVNET_CHAIN,
            retry_attempts=1,
            insecure_plaintext_key=True,
            relayer_key=account_seed(1).hex(),
        )
        adapter = PujiangAdapter(settings, transport=devnet_node.transport)
        try:
            first = await adapter.account_nonce(signer.address())
            hashes = await asyncio.gather(
                *(adapter.anchor_digest(bytes([n]) * 32) for n in range(sends))
            )
            return first, list(hashes)
        finally:
            await adapter.aclose()

    async def committed_nonce() -> int:
        adapter = _adapter(devnet_node, devnet_node.transport)
        try:
            return await adapter.account_nonce(signer.address())
        finally:
            await adapter.aclose()

    first, hashes = asyncio.run(scenario())
    assert len(set(hashes)) == sends  # every send admitted (none refused)
    devnet_node.node.produce_block()
    assert asyncio.run(committed_nonce()) == first + sends  # all committed, in one block


def test_a_notary_verifying_older_heights_one_by_one_reads_each_header_a_few_times(
    tmp_path: Path,
    devnet_node: InProcessDevnet,
) -> None:
    for _ in range(HEIGHTS):
        devnet_node.node.produce_block()
    counting = CountingTransport(devnet_node.transport)

    async def scenario() -> int:
        adapter = _adapter(devnet_node, counting)
        try:
            follower = LightClientFollower(
                FilePersistence(tmp_path),
                {ChainId(DEVNET_CHAIN): adapter},
                FollowerSettings(
                    checkpoints={}, trusting_period=lambda _: (3600, 15), tofu_below_target=False
                ),
                time.time,
            )
            verifier = ChainVerifier(adapter, follower)
            top = int(await adapter.finalized_height())
            await verifier.consensus_at(top)  # the checkpoint: trusted on first use
            before = counting.headers_read
            for height in range(top - 1, top - HEIGHTS, -1):  # newest first, as work comes
                state = await verifier.consensus_at(height)
                assert state.height == height  # type: ignore[attr-defined]
            return counting.headers_read - before
        finally:
            await adapter.aclose()

    read = asyncio.run(scenario())
    # From the nearest verified header: the item's and its parent link's, and the state's
    # own header: 3 per height. From the checkpoint every time it was ~HEIGHTS**2 / 2.
    assert read <= 3 * (HEIGHTS - 1), read


def test_a_send_whose_nonce_another_sender_used_goes_through_after_one_nonce_reread(
    evm: Anvil,
) -> None:
    """Issue 20: a nonce taken by someone else is recovered by re-reading the chain's
    nonce at once (not by a retry with backoff): the send lands on the next free nonce."""
    bob = evm.node.accounts[2]  # an account of its own: the other tests' nonces stay put
    settings = EvmChainSettings(
        chain=LOCAL_CHAIN,
        rpc_url=evm.node.url,
        evm_chain_id=EVM_CHAIN_ID,
        bridge_address=evm.bridge.address,
        confirmations=0,
        insecure_plaintext_key=True,
        signer_key=bob.private_key,
        read_retries=1,
        retry_backoff=0.05,
    )

    def pay(key: str) -> ChainAction:
        return ChainAction("raw", {"to": "0x" + "de" * 20, "value": 1, "gas": 21_000}, key)

    async def mined(adapter: EvmAdapter, tx_hash: str) -> None:
        """Until anvil has mined ``tx_hash``: it answers a send before it mines it, and the
        other sender's node must count the first transaction (else it takes its nonce and
        replaces it in the pool, and the test measured anvil's race, not the adapter)."""
        for _ in range(GUARD_LOOKS):
            if await adapter.reader.call("eth_getTransactionReceipt", tx_hash) is not None:
                return
            await asyncio.sleep(0.02)
        raise AssertionError(f"anvil did not mine {tx_hash}")

    async def scenario() -> tuple[int, int, int]:
        async with EvmAdapter(settings) as adapter:
            first = await adapter.submit(pay("first"))  # the adapter counts its nonce itself
            await mined(adapter, "0x" + first.hex())
            tx = {"from": bob.address, "to": "0x" + "de" * 20, "value": "0x1"}
            other = await adapter.reader.call("eth_sendTransaction", tx)  # the same account
            await mined(adapter, other)
            second = await adapter.submit(pay("second"))  # its counted nonce is taken
            nonces = []
            for tx_hash in (first, second):
                found = await adapter.reader.call("eth_getTransactionByHash", "0x" + tx_hash.hex())
                nonces.append(int(found["nonce"], 16))
            count = await adapter.reader.call("eth_getTransactionCount", bob.address, "latest")
            count = int(count, 16)
            return nonces[0], nonces[1], count

    first, second, count = asyncio.run(scenario())
    assert second == first + 2  # the other sender's transaction took first + 1
    assert count == first + 3  # all three mined: nothing lost, nothing repeated

"""The flow tests' pair: both routes between a devnet and anvil, one relayer, ``SqlStore``.

``Flows`` drives a relayer over both chains; ``sign_all_proven`` stands in for
three notary processes in both directions: it reads each proven packet back
from its source chain and signs the destination bridge's delivery digest with
the devnet notary keys (the anvil bridge's committee is the same three keys).
The fixtures that build it are in ``tests/flows/conftest.py``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from adapters.evm.adapter import EvmAdapter
from adapters.evm.settings import EvmChainSettings
from core.ids import ChainId, Height
from core.records import SignatureRecord, TransferRecord
from core.states import TransferState
from core.types import EventKind
from devnet import keys
from proofs.notary.ecdsa import sign
from proofs.pujiang import codec
from relayer.engine import Relayer
from relayer.settings import RelayerSettings
from tests.evm.chain import Contract
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import (
    NOTARIES,
    NOTARY_KEYS,
    ROUTE,
    Anvil,
    pujiang_adapter,
    relay_evm_settings,
)
from tests.flows.conservation import AnvilView, Asset, DevnetView

DEVNET_TO_ANVIL = ROUTE
ANVIL_TO_DEVNET = "anvil-to-devnet"
FAST = RelayerSettings(poll_interval=0.01, wait_interval=0.0, backoff_base=0.01, backoff_cap=0.05)
HOUR = 3600


@dataclass
class Flows:
    """One devnet, one anvil bridge, the token and receiver on anvil, the hub's store."""

    devnet: InProcessDevnet
    evm: Anvil
    token: Contract
    receiver: Contract
    store: Any
    anvil_start: int

    # --- accounts ----------------------------------------------------------------------

    @property
    def alice_devnet(self) -> bytes:
        """Devnet dev account 0's address (20 bytes)."""
        return codec.compute_address(bytes(keys.account_key(DEVNET_SEED, 0).verify_key))

    @property
    def alice_anvil(self) -> bytes:
        return bytes.fromhex(self.evm.alice[2:])

    # --- the chains as the conservation reader sees them --------------------------------

    def views(self) -> tuple[DevnetView, AnvilView]:
        return (
            DevnetView(self.devnet.url, DEVNET_CHAIN, self.devnet.transport),
            AnvilView(
                self.evm.node.url,
                LOCAL_CHAIN,
                self.evm.bridge.address,
                EVM_CHAIN_ID,
                start_block=self.anvil_start,
            ),
        )

    def token_asset(self) -> Asset:
        return Asset(LOCAL_CHAIN, self.token.address.lower())

    # --- sending on the devnet ----------------------------------------------------------

    def devnet_deadline_ms(self) -> int:
        """A timeout an hour past both chains' clocks, in whole seconds (the EVM bridge's unit)."""
        return (max(self.evm.chain.timestamp(), int(time.time())) + HOUR) * 1000

    def devnet_tx(self, kind: str, args: list[object], account: int = 0) -> bytes:
        """Sign ``kind(args)`` with devnet dev account ``account``, commit it; the tx hash."""
        signer = keys.account_key(DEVNET_SEED, account)
        nonce = self.devnet.node.committed_nonce(codec.compute_address(bytes(signer.verify_key)))
        tx_hash = self.devnet.node.submit(keys.sign_tx(signer, DEVNET_CHAIN, nonce, kind, args))
        self.devnet.node.produce_block()
        status = self.devnet.node.query_tx(tx_hash)["status"]
        if status != "committed":
            raise AssertionError(f"devnet {kind} was not committed: {status}")
        return tx_hash

    def devnet_send(self, receiver: bytes, denom: str, amount: int) -> bytes:
        args = [LOCAL_CHAIN.encode(), receiver, denom.encode(), amount, 0]
        return self.devnet_tx("bridge_send", [*args, self.devnet_deadline_ms()])

    def devnet_message(self, receiver: bytes, payload: bytes) -> bytes:
        args = [LOCAL_CHAIN.encode(), receiver, payload, 0, self.devnet_deadline_ms()]
        return self.devnet_tx("bridge_send_message", args)

    # --- sending on anvil ---------------------------------------------------------------

    def anvil_deadline_s(self) -> int:
        return max(self.evm.chain.timestamp(), int(time.time())) + HOUR

    def anvil_tx_hash(self, receipt: Any) -> bytes:
        return bytes.fromhex(receipt.tx_hash[2:])

    # --- the relayer --------------------------------------------------------------------

    def relayer(self, name: str = "relayer-flows", **changes: Any) -> Relayer:
        adapters = {
            ChainId(DEVNET_CHAIN): pujiang_adapter(self.devnet),
            ChainId(LOCAL_CHAIN): EvmAdapter(anvil_settings(self.evm)),
        }
        return Relayer(
            self.store, adapters, worker_id=name, settings=FAST.model_copy(update=changes)
        )

    def transfer_of(self, chain_id: str, tx_hash: bytes) -> TransferRecord | None:
        found: TransferRecord | None = self.store.transfer_by_source_tx(ChainId(chain_id), tx_hash)
        return found

    async def drive(
        self,
        relayer: Relayer,
        chain_id: str,
        tx_hash: bytes,
        until: TransferState = TransferState.COMPLETED,
        passes: int = 80,
    ) -> TransferRecord:
        """Passes of ``relayer`` (notaries signing and a devnet block between them) until the
        transfer of the source transaction ``tx_hash`` reaches ``until``."""
        for _ in range(passes):
            await relayer.run_once()
            await sign_all_proven(self.store, relayer, time.time())
            self.devnet.node.produce_block()
            found = self.transfer_of(chain_id, tx_hash)
            if found is not None and found.state is until:
                return found
            await asyncio.sleep(0.01)
        found = self.transfer_of(chain_id, tx_hash)
        history = self.store.history(found.id) if found else []
        raise AssertionError(f"not {until} after {passes} passes: {[h.reason for h in history]}")

    def run(
        self, chain_id: str, tx_hash: bytes, until: TransferState = TransferState.COMPLETED
    ) -> TransferRecord:
        """A new relayer driven until the transfer reaches ``until``, then closed."""

        async def scenario() -> TransferRecord:
            relayer = self.relayer()
            try:
                return await self.drive(relayer, chain_id, tx_hash, until)
            finally:
                await close(relayer)

        return asyncio.run(scenario())


def anvil_settings(env: Anvil) -> EvmChainSettings:
    """The relayer's anvil settings (``tests/relayer``'s), with room for anvil's clock.

    anvil stamps each block one second after its parent here, so its clock runs
    ahead of the wall clock by about one second per block mined this session.
    """
    return relay_evm_settings(env, max_clock_drift=HOUR)


async def close(relayer: Relayer) -> None:
    """The relayer's process ends: its watch leases released (as ``Relayer.run`` does at a
    stop, so the test's next relayer watches at once), its adapters closed."""
    await relayer.release_watches()
    for adapter in relayer.adapters.values():
        await adapter.aclose()  # type: ignore[attr-defined]


async def sign_all_proven(hub: Any, relayer: Relayer, now: float) -> int:
    """Stand-in for three notary processes, both directions: sign every proven packet.

    The packet is read back from its source chain (not from the relayer's
    store) and the destination bridge's delivery digest is signed with each
    of the three notary keys.
    """
    proven, _ = hub.list_transfers(state=TransferState.PROVEN, limit=200)
    signed = 0
    for t in proven:
        route = hub.route(t.route_id)
        source = relayer.adapters[route.source]
        dest = relayer.adapters[route.destination]
        height = Height(t.source_height)
        (event,) = [
            e
            for e in await source.events(height, height)
            if e.kind is EventKind.SEND_PACKET and tuple(e.position) == tuple(t.source_position)
        ]
        packet = source.bridge().packet_of(event)  # type: ignore[attr-defined]
        digest = dest.bridge().delivery_digest(packet)  # type: ignore[attr-defined]
        for key, address in zip(NOTARY_KEYS, NOTARIES, strict=True):
            hub.add_signature(
                SignatureRecord(t.id, address, digest, sign(key, digest), now),
                t.route_id,
                packet.sequence,
            )
            signed += 1
    return signed + await _sign_batches(hub, relayer, now)


async def _sign_batches(hub: Any, relayer: Relayer, now: float) -> int:
    """The stand-in in batch mode (issue #15): every assembled batch, its root recomputed
    from the packets read back from their source chain, signed with each key."""
    from core.batches import BatchKind, BatchStatement
    from proofs.hashing import get_hash_function
    from proofs.notary.batch import compute_batch_root

    signed = 0
    for batch, members in hub.batches_owed(NOTARIES[0], 16):
        route = hub.route(batch.route_id)
        source = relayer.adapters[route.source]
        bridge = relayer.adapters[route.destination].bridge()  # type: ignore[attr-defined]
        packets = []
        for t in members:
            height = Height(t.source_height)
            (event,) = [
                e
                for e in await source.events(height, height)
                if e.kind is EventKind.SEND_PACKET and tuple(e.position) == tuple(t.source_position)
            ]
            packets.append(source.bridge().packet_of(event))  # type: ignore[attr-defined]
        root = compute_batch_root(
            [bridge.batch_leaf(p) for p in packets],
            hash_fn=get_hash_function(bridge.batch_hash_name()),
        )
        statement = BatchStatement(
            str(route.source),
            str(route.destination),
            bridge.committee_epoch(),
            BatchKind(batch.kind),
            len(packets),
            root,
        )
        digest = bridge.batch_digest(statement)
        assert digest == batch.digest, "the hub proposed a statement the notaries did not compute"
        for key, address in zip(NOTARY_KEYS, NOTARIES, strict=True):
            hub.add_batch_signature(
                SignatureRecord(batch.id, address, digest, sign(key, digest), now, "batch")
            )
            signed += 1
    return signed
